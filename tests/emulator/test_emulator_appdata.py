"""The data store: CRUD, queries, counts, deletes by version, result-set limit, multi-insert."""

from typing import Any

import pytest

from tests.emulator.emulator_helpers import Api, MakeApi


async def _user(api: Api, version: int = 3, name: str = "user") -> str:
    return await api.session(version, name)


async def test_create_read_update_with_server_metadata(api: Api) -> None:
    token = await _user(api)
    created = await api.call(
        "POST",
        f"/appdata/{api.key}/books",
        version=3,
        auth=token,
        body={"title": "Dune", "_kmd": {"lmt": "forged"}, "_acl": {"creator": "forged"}},
    )
    assert created.status == 201
    doc = created.json
    assert len(doc["_id"]) == 24 and doc["title"] == "Dune"
    assert doc["_acl"]["creator"] != "forged" and doc["_kmd"]["lmt"] != "forged"
    assert doc["_kmd"]["ect"] == doc["_kmd"]["lmt"]
    path = f"/appdata/{api.key}/books/{doc['_id']}"
    read = await api.call("GET", path, version=3, auth=token)
    assert read.json == doc
    updated = await api.call("PUT", path, version=3, auth=token, body={"title": "Dune II"})
    assert updated.status == 200 and updated.json["title"] == "Dune II"
    assert updated.json["_kmd"]["ect"] == doc["_kmd"]["ect"]
    assert updated.json["_acl"]["creator"] == doc["_acl"]["creator"]


async def test_put_upserts_and_post_keeps_a_given_id(api: Api) -> None:
    token = await _user(api)
    upsert = await api.call("PUT", f"/appdata/{api.key}/c/mine", version=3, auth=token, body={})
    assert upsert.status == 201 and upsert.json["_id"] == "mine"
    given = await api.call(
        "POST", f"/appdata/{api.key}/c", version=3, auth=token, body={"_id": "x"}
    )
    assert given.status == 201 and given.json["_id"] == "x"
    again = await api.call(
        "POST", f"/appdata/{api.key}/c", version=3, auth=token, body={"_id": "x"}
    )
    assert again.status == 409


async def test_missing_entity_is_entity_not_found(api: Api) -> None:
    token = await _user(api)
    for method in ("GET", "DELETE"):
        reply = await api.call(method, f"/appdata/{api.key}/c/none", version=3, auth=token)
        assert reply.status == 404 and reply.error == "EntityNotFound"


@pytest.mark.parametrize("version, status", [(0, 204), (1, 204), (2, 200), (6, 200)])
async def test_entity_delete_answer_by_version(api: Api, version: int, status: int) -> None:
    token = await api.session(version, "u") if version else None
    auth = token or api.master_auth
    created = await api.call("POST", f"/appdata/{api.key}/c", version=version, auth=auth, body={})
    reply = await api.call(
        "DELETE", f"/appdata/{api.key}/c/{created.json['_id']}", version=version, auth=auth
    )
    assert reply.status == status
    if status == 204:
        assert reply.raw == b"" and "Content-Type" not in reply.headers
    else:
        assert reply.json == {"count": 1}


@pytest.mark.parametrize("version, status", [(1, 204), (2, 200)])
async def test_delete_by_query_answer_by_version(api: Api, version: int, status: int) -> None:
    token = await api.session(version, "u")
    for n in range(4):
        await api.call("POST", f"/appdata/{api.key}/c", version=version, auth=token, body={"n": n})
    reply = await api.call(
        "DELETE",
        f"/appdata/{api.key}/c",
        version=version,
        auth=token,
        params={"query": '{"n": {"$gte": 2}}'},
    )
    assert reply.status == status
    if status == 200:
        assert reply.json == {"count": 2}
    left = await api.call("GET", f"/appdata/{api.key}/c", version=version, auth=token)
    assert sorted(doc["n"] for doc in left.json) == [0, 1]


async def test_delete_on_a_collection_needs_a_query(api: Api) -> None:
    token = await _user(api)
    reply = await api.call("DELETE", f"/appdata/{api.key}/c", version=3, auth=token)
    assert reply.status == 400 and reply.error == "MissingQuery"


async def _fill(api: Api, token: str, count: int, version: int = 3) -> None:
    for n in range(count):
        doc = {"n": n, "even": n % 2 == 0, "name": f"item{n}"}
        reply = await api.call(
            "POST", f"/appdata/{api.key}/c", version=version, auth=token, body=doc
        )
        assert reply.status == 201


async def test_query_sort_skip_limit_fields_and_count(api: Api) -> None:
    token = await _user(api)
    await _fill(api, token, 10)
    params = {
        "query": '{"even": true}',
        "sort": '{"n": -1}',
        "skip": "1",
        "limit": "2",
        "fields": "name",
    }
    reply = await api.call("GET", f"/appdata/{api.key}/c", version=3, auth=token, params=params)
    assert [set(doc) for doc in reply.json] == [{"_id", "name"}] * 2
    assert [doc["name"] for doc in reply.json] == ["item6", "item4"]
    count = await api.call(
        "GET",
        f"/appdata/{api.key}/c/_count",
        version=3,
        auth=token,
        params={"query": '{"n": {"$lt": 3}}'},
    )
    assert count.status == 200 and count.json == {"count": 3}
    everything = await api.call("GET", f"/appdata/{api.key}/c/_count/", version=3, auth=token)
    assert everything.json == {"count": 10}


@pytest.mark.parametrize(
    "params, error",
    [
        ({"query": "{not json"}, "InvalidQuerySyntax"),
        ({"query": '{"n": {"$bogus": 1}}'}, "InvalidQuerySyntax"),
        ({"sort": '{"n": 5}'}, "InvalidQuerySyntax"),
        ({"limit": "-1"}, "ParameterValueOutOfRange"),
        ({"skip": "two"}, "ParameterValueOutOfRange"),
    ],
)
async def test_bad_listing_parameters(api: Api, params: dict[str, str], error: str) -> None:
    token = await _user(api)
    reply = await api.call("GET", f"/appdata/{api.key}/c", version=3, auth=token, params=params)
    assert reply.status == 400 and reply.error == error


async def test_malformed_json_body_is_json_parse_error(api: Api) -> None:
    token = await _user(api)
    reply = await api.call(
        "POST",
        f"/appdata/{api.key}/c",
        version=3,
        auth=token,
        data=b'{"a": ',
        headers={"Content-Type": "application/json"},
    )
    assert reply.status == 400 and reply.error == "JSONParseError"


@pytest.mark.parametrize("version", [0, 3])
async def test_result_set_limit_truncates_up_to_v3(make_api: MakeApi, version: int) -> None:
    api = await make_api(result_set_limit=5)
    await _fill(api, api.master_auth, 8, version=version)
    plain = await api.call("GET", f"/appdata/{api.key}/c", version=version, auth=api.master_auth)
    assert plain.status == 200 and [d["n"] for d in plain.json] == [0, 1, 2, 3, 4]
    big_limit = await api.call(
        "GET", f"/appdata/{api.key}/c", version=version, auth=api.master_auth, params={"limit": "7"}
    )
    assert len(big_limit.json) == 5


async def test_result_set_limit_refuses_from_v4(make_api: MakeApi) -> None:
    api = await make_api(result_set_limit=5)
    await _fill(api, api.master_auth, 8)
    url = f"/appdata/{api.key}/c"

    async def listing(**params: str) -> Any:
        return await api.call("GET", url, version=4, auth=api.master_auth, params=params)

    refused = await listing()
    assert refused.status == 400 and refused.error == "ResultSetSizeExceeded"
    assert "more than 5 results" in refused.json["description"]
    assert (await listing(limit="7")).status == 400  # a limit above L while more than L match
    assert len((await listing(limit="5")).json) == 5
    assert len((await listing(skip="3")).json) == 5  # 8 - 3 = 5 left: not more than L
    assert (await listing(skip="2")).status == 400
    assert len((await listing(query='{"n": {"$lt": 5}}')).json) == 5


async def test_multi_insert_all_succeed_at_v5(api: Api) -> None:
    token = await api.session(5, "m")
    reply = await api.call(
        "POST", f"/appdata/{api.key}/c", version=5, auth=token, body=[{"a": 1}, {"a": 2}]
    )
    assert reply.status == 201
    assert reply.json["errors"] == [] and [e["a"] for e in reply.json["entities"]] == [1, 2]
    assert all(len(e["_id"]) == 24 for e in reply.json["entities"])


async def test_multi_insert_partial_failure_is_207(api: Api) -> None:
    token = await api.session(5, "m")
    await api.call("POST", f"/appdata/{api.key}/c", version=5, auth=token, body={"_id": "taken"})
    reply = await api.call(
        "POST",
        f"/appdata/{api.key}/c",
        version=5,
        auth=token,
        body=[{"a": 1}, "not an object", {"_id": "taken"}, {"a": 4}],
    )
    assert reply.status == 207
    entities, errors = reply.json["entities"], reply.json["errors"]
    assert [e is None for e in entities] == [False, True, True, False]
    assert [e["index"] for e in errors] == [1, 2]
    single = await api.call("POST", f"/appdata/{api.key}/c", version=5, auth=token, body="x")
    assert {k: v for k, v in errors[0].items() if k != "index"} == single.json
    assert set(errors[1]) == {"index", "error", "description", "debug"}


async def test_multi_insert_empty_and_oversized(api: Api) -> None:
    token = await api.session(6, "m")
    empty = await api.call("POST", f"/appdata/{api.key}/c", version=6, auth=token, body=[])
    assert empty.status == 400 and empty.error == "BadRequest"
    oversized = [{"n": n} for n in range(101)]
    too_many = await api.call(
        "POST", f"/appdata/{api.key}/c", version=6, auth=token, body=oversized
    )
    assert too_many.status == 413 and too_many.error == "BadRequest"
    exactly = await api.call(
        "POST", f"/appdata/{api.key}/c", version=6, auth=token, body=oversized[:100]
    )
    assert exactly.status == 201 and len(exactly.json["entities"]) == 100


async def test_multi_insert_is_unavailable_at_v4(api: Api) -> None:
    token = await api.session(4, "m")
    reply = await api.call("POST", f"/appdata/{api.key}/c", version=4, auth=token, body=[{"a": 1}])
    assert reply.status == 400 and reply.error == "FeatureUnavailable"
    assert reply.json["debug"] == (
        "Inserting multiple entities is not available in this Kinvey API version"
    )
    count = await api.call("GET", f"/appdata/{api.key}/c/_count", version=4, auth=token)
    assert count.json == {"count": 0}


async def test_custom_endpoint_echoes(api: Api) -> None:
    token = await _user(api)
    props = '{"source":"test"}'
    reply = await api.call(
        "POST",
        f"/rpc/{api.key}/custom/hello",
        version=3,
        auth=token,
        body={"x": [1]},
        headers={"X-Kinvey-Custom-Request-Properties": props},
    )
    assert reply.status == 200 and reply.json == {
        "name": "hello",
        "body": {"x": [1]},
        "username": "user",
        "headers": {"X-Kinvey-Custom-Request-Properties": props},
    }
    anonymous = await api.call("POST", f"/rpc/{api.key}/custom/hello", version=3, body={})
    assert anonymous.status == 401
