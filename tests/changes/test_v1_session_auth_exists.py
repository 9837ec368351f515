"""v1 SessionAuthExists: v0 clients cannot log in, log out or send session tokens."""

from __future__ import annotations

import pytest

from gateway.versioning import RequestInfo
from tests.changes.support import (
    APP_AUTH,
    StartGatewayOnEmulator,
    answering,
    assert_untouched,
    make_request,
    metrics_of,
    run,
)
from tests.conftest import APP_KEY
from tests.support.kinvey_client import KinveyClient, basic

V0_FEATURE_UNAVAILABLE = {"error": "Requested functionality is unavailable in this API version"}


@pytest.mark.parametrize("path", ["/user/k/login", "/user/k/_logout", "/user/k/login/"])
@pytest.mark.parametrize("pin", [3, 6])
async def test_v0_login_and_logout_are_refused_without_calling_upstream(
    path: str, pin: int
) -> None:
    upstream = answering(200, {"_id": "u"})
    request = make_request("POST", path, 0, pin, headers={"Authorization": APP_AUTH})
    response = await run(request, upstream)
    assert response.status == 400
    assert response.json == V0_FEATURE_UNAVAILABLE
    assert upstream.seen == []
    assert metrics_of(request).refused == [("SessionAuthExists", "FeatureUnavailable")]


@pytest.mark.parametrize("scheme", ["Kinvey", "kinvey", "KINVEY"])
@pytest.mark.parametrize("path", ["/appdata/k/c", "/user/k/_me", "/blob/k/upload-loc/f", "/x"])
async def test_v0_session_tokens_are_invalid_credentials(scheme: str, path: str) -> None:
    upstream = answering(200, [])
    request = make_request("GET", path, 0, 6, headers={"Authorization": f"{scheme} tok"})
    response = await run(request, upstream)
    assert response.status == 401
    assert response.json == {
        "error": "Invalid credentials. Please retry your request with correct credentials"
    }
    assert upstream.seen == []


async def test_v0_basic_credentials_pass_through_untouched() -> None:
    upstream = answering(200, [{"_id": "a"}])
    auth = basic("alice", "pw")
    response = await run(
        make_request("GET", "/appdata/k/c", 0, 5, headers={"Authorization": auth}), upstream
    )
    assert response.status == 200
    assert upstream.seen[0].headers["Authorization"] == auth


@pytest.mark.parametrize("client", [1, 2, 3, 5])
async def test_v1_and_newer_clients_may_log_in_and_use_sessions(client: int) -> None:
    upstream = answering(200, {"_id": "u", "_kmd": {"authtoken": "t"}})
    request = make_request(
        "POST", "/user/k/login", client, 5, headers={"Authorization": "Kinvey abc"}
    )
    response = await run(request, upstream)
    assert response.status == 200
    assert len(upstream.seen) == 1


async def test_end_to_end_against_the_emulator(
    start_gateway_on_emulator: StartGatewayOnEmulator,
) -> None:
    gateway = await start_gateway_on_emulator(5, versions=(0, 5))
    app = KinveyClient(gateway.url, 5, APP_AUTH)
    signup = await app.call("POST", f"/user/{APP_KEY}", body={"username": "al", "password": "pw"})
    assert signup.status == 201
    token = signup.json["_kmd"]["authtoken"]

    v0_app = KinveyClient(gateway.url, 0, APP_AUTH)
    reply = await v0_app.call(
        "POST", f"/user/{APP_KEY}/login", body={"username": "al", "password": "pw"}
    )
    assert (reply.status, reply.json) == (400, V0_FEATURE_UNAVAILABLE)
    assert reply.headers["X-Kinvey-API-Version"] == "0"

    v0_session = KinveyClient(gateway.url, 0, f"Kinvey {token}")
    reply = await v0_session.call("GET", f"/user/{APP_KEY}/_me")
    assert reply.status == 401
    assert set(reply.json) == {"error"}
    # The same token works for the version that has sessions...
    reply = await KinveyClient(gateway.url, 1, f"Kinvey {token}").call(
        "GET", f"/user/{APP_KEY}/_me"
    )
    assert (reply.status, reply.json["username"]) == (200, "al")
    # ...and v0's own way of logging in (Basic user credentials on _me) is untouched.
    reply = await KinveyClient(gateway.url, 0, basic("al", "pw")).call(
        "GET", f"/user/{APP_KEY}/_me"
    )
    assert (reply.status, reply.json["username"]) == (200, "al")


def _signup(client: int, pin: int) -> RequestInfo:
    return make_request(
        "POST",
        "/user/k",
        client,
        pin,
        headers={"Authorization": APP_AUTH},
        body=b'{"username": "ada", "password": "pw"}',
    )


@pytest.mark.parametrize("pin", [3, 4, 5])
async def test_v0_signup_answers_no_session_token(pin: int) -> None:
    user = {"_id": "u1", "username": "ada", "_kmd": {"lmt": "t", "authtoken": "tok"}}
    upstream = answering(201, user)
    response = await run(_signup(0, pin), upstream)
    assert response.status == 201
    assert response.json == {"_id": "u1", "username": "ada", "_kmd": {"lmt": "t"}}
    # v1 clients keep the token their version returned.
    assert (await run(_signup(1, pin), answering(201, user))).json["_kmd"]["authtoken"] == "tok"


async def test_other_answers_keep_their_session_token() -> None:
    """Only a signup answer loses its token: a custom endpoint may return a user document."""
    user = {"_id": "u1", "_kmd": {"authtoken": "kept"}}
    await assert_untouched("POST", f"/rpc/{APP_KEY}/custom/me", 0, 1, body={}, answer=user)
