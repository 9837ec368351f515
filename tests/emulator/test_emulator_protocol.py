"""Version header, Kinvey headers, routing leniency and error shapes on the wire."""

import pytest

from tests.emulator.emulator_helpers import Api, MakeApi
from tests.support.kinvey_client import quoted


async def test_missing_header_is_served_at_the_default_version(make_api: MakeApi) -> None:
    api = await make_api(default_api_version=1)
    token = await api.session(1, "dora")
    created = await api.call("POST", f"/appdata/{api.key}/c", version=1, auth=token, body={})
    reply = await api.call("DELETE", f"/appdata/{api.key}/c/{created.json['_id']}", auth=token)
    assert reply.status == 204  # v1 behaviour without any header
    assert reply.headers["X-Kinvey-API-Version"] == "1"


@pytest.mark.parametrize("name", ["x-kinvey-api-version", "X-KINVEY-API-VERSION"])
async def test_header_name_in_any_case(api: Api, name: str) -> None:
    reply = await api.call("GET", f"/appdata/{api.key}", auth=api.app_auth, headers={name: "2"})
    assert reply.status == 200 and reply.headers["X-Kinvey-API-Version"] == "2"


async def test_every_response_carries_a_fresh_request_id_and_json_charset(api: Api) -> None:
    first = await api.call("GET", f"/appdata/{api.key}", version=6, auth=api.app_auth)
    second = await api.call("GET", f"/appdata/{api.key}", version=6, auth="Basic eA==")
    ids = {first.headers["X-Kinvey-Request-Id"], second.headers["X-Kinvey-Request-Id"]}
    assert len(ids) == 2 and all(ids)
    assert first.headers["Content-Type"] == "application/json; charset=utf-8"
    assert second.headers["Content-Type"] == "application/json; charset=utf-8"


async def test_handshake_shapes(api: Api) -> None:
    anonymous = await api.call("GET", "/appdata/", version=3)
    assert anonymous.status == 200
    assert set(anonymous.json) == {"version", "kinvey"} and anonymous.json["kinvey"] == "hello"
    named = await api.call("GET", f"/appdata/{api.key}", version=3, auth=api.app_auth)
    assert named.json["kinvey"] == f"hello {api.config.app_name}"
    assert named.json["appName"] == api.config.app_name
    assert named.json["environmentName"] == api.config.environment_name
    unauthenticated = await api.call("GET", f"/appdata/{api.key}", version=3)
    assert unauthenticated.status == 401 and unauthenticated.error == "InvalidCredentials"


@pytest.mark.parametrize("raw, echo", [("7", "7"), ("2", "2"), ("abc", None), ("3.5", None)])
async def test_unserved_versions_are_refused_in_the_structured_shape(
    make_api: MakeApi, raw: str, echo: str | None
) -> None:
    api = await make_api(min_api_version=3, max_api_version=6)
    reply = await api.call(
        "GET", f"/appdata/{api.key}", auth=api.app_auth, headers={"X-Kinvey-API-Version": raw}
    )
    assert reply.status == 400
    assert reply.json["error"] == "APIVersionNotAvailable"
    assert set(reply.json) == {"error", "description", "debug"}
    assert reply.headers.get("X-Kinvey-API-Version") == echo
    assert reply.headers["X-Kinvey-Request-Id"]


async def test_v0_below_the_minimum_still_gets_the_structured_body(make_api: MakeApi) -> None:
    api = await make_api(min_api_version=1)
    reply = await api.call("GET", f"/appdata/{api.key}", version=0, auth=api.app_auth)
    assert reply.status == 400 and reply.json["error"] == "APIVersionNotAvailable"
    assert "description" in reply.json


async def test_max_version_below_six_refuses_six(make_api: MakeApi) -> None:
    api = await make_api(max_api_version=4, default_api_version=4)
    refused = await api.call("GET", f"/appdata/{api.key}", version=5, auth=api.app_auth)
    assert refused.status == 400 and refused.error == "APIVersionNotAvailable"
    served = await api.call("GET", f"/appdata/{api.key}", auth=api.app_auth)
    assert served.status == 200 and served.headers["X-Kinvey-API-Version"] == "4"


async def test_v0_errors_have_the_v0_shape_on_every_kind_of_route(api: Api) -> None:
    for method, path in [
        ("GET", f"/appdata/{api.key}/c/missing"),
        ("GET", f"/user/{api.key}/_me"),
        ("GET", f"/blob/{api.key}/download-loc/nothing"),
        ("POST", f"/rpc/{api.key}/custom/x"),
    ]:
        reply = await api.call(method, path, version=0, auth="Basic bm86bm8=")
        assert reply.status == 401, (method, path)
        assert list(reply.json) == ["error"]
        assert reply.json["error"].startswith("Invalid credentials")
    session = await api.call("POST", f"/user/{api.key}/login", version=0, auth=api.app_auth)
    assert session.status == 400
    assert session.json == {"error": "Requested functionality is unavailable in this API version"}


async def test_v1_errors_are_structured(api: Api) -> None:
    reply = await api.call("GET", f"/appdata/{api.key}/c/x", version=1, auth="Basic bm86bm8=")
    assert reply.status == 401
    assert reply.json["error"] == "InvalidCredentials"
    assert set(reply.json) == {"error", "description", "debug"}


async def test_trailing_slash_and_unknown_query_params_are_accepted(api: Api) -> None:
    token = await api.session(3, "erin")
    created = await api.call(
        "POST",
        f"/appdata/{api.key}/notes/",
        version=3,
        auth=token,
        body={"t": 1},
        params={"_": "12345"},
    )
    assert created.status == 201
    read = await api.call(
        "GET",
        f"/appdata/{api.key}/notes/{created.json['_id']}/",
        version=3,
        auth=token,
        params={"_": "999", "kinveyfile_tls": "true"},
    )
    assert read.status == 200 and read.json["t"] == 1


async def test_percent_encoded_segments_are_decoded(api: Api) -> None:
    token = await api.session(3, "fay")
    await api.call("PUT", f"/appdata/{api.key}/c/a%20b", version=3, auth=token, body={"x": 1})
    read = await api.call("GET", quoted(f"/appdata/{api.key}/c/a b"), version=3, auth=token)
    assert read.status == 200 and read.json["_id"] == "a b"


async def test_json_content_type_on_get_is_tolerated(api: Api) -> None:
    # The v6 SDK sends Content-Type: application/json even on GET and DELETE.
    reply = await api.call(
        "GET",
        f"/appdata/{api.key}",
        version=6,
        auth=api.app_auth,
        headers={"Content-Type": "application/json"},
    )
    assert reply.status == 200


async def test_unknown_paths_wrong_methods_and_wrong_app_keys(api: Api) -> None:
    unknown = await api.call("GET", "/nothing/here", version=3)
    assert unknown.status == 404 and unknown.headers["X-Kinvey-API-Version"] == "3"
    wrong_method = await api.call("PATCH", f"/appdata/{api.key}", version=3, auth=api.app_auth)
    assert wrong_method.status == 405
    other_app = await api.call("GET", "/appdata/kid_other", version=3, auth=api.app_auth)
    assert other_app.status == 404 and other_app.error == "AppNotFound"
