"""v5 multi-insert: refused for older clients; fanned out into single POSTs on older upstreams."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import aiohttp
import pytest

from gateway.kinvey.errors import DEFAULT_DESCRIPTIONS
from gateway.versioning import RequestInfo, ResponseInfo
from tests.changes.support import (
    MASTER_AUTH,
    Harness,
    StartGatewayOnEmulator,
    assert_untouched,
    error_answer,
    json_answer,
)
from tests.conftest import APP_KEY
from tests.support.kinvey_client import KinveyClient, quoted

BOOKS = f"/appdata/{APP_KEY}/books"
NOT_AVAILABLE = "Inserting multiple entities is not available in this Kinvey API version"


class Store:
    """A v4 upstream collection: single inserts only, duplicates refused, concurrency tracked."""

    def __init__(self, refuse_auth: bool = False) -> None:
        self.saved: dict[str, dict[str, Any]] = {}
        self.active = self.most_active = 0
        self.refuse_auth = refuse_auth

    async def __call__(self, request: RequestInfo) -> ResponseInfo:
        if self.refuse_auth:
            return error_answer("InvalidCredentials", 401)
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        for _ in range(3):
            await asyncio.sleep(0)
        self.active -= 1
        entity = request.json
        if not isinstance(entity, dict):
            return error_answer("FeatureUnavailable", 400)
        entity_id = entity.get("_id") or f"id{len(self.saved)}"
        if entity_id in self.saved:
            return error_answer("EntityAlreadyExists", 409, "duplicate")
        self.saved[entity_id] = {**entity, "_id": entity_id}
        return json_answer(201, self.saved[entity_id])


def _post(
    harness: Harness, client: int, upstream: int, raw: bytes, headers: dict[str, str] | None = None
) -> RequestInfo:
    sent = {"Authorization": MASTER_AUTH, "Content-Type": "application/json", **(headers or {})}
    return harness.request("POST", BOOKS, client, upstream, raw_body=raw, headers=sent)


@pytest.mark.parametrize(("client", "upstream"), [(4, 5), (3, 6), (1, 6), (0, 6)])
async def test_older_clients_sending_an_array_get_feature_unavailable(
    client: int, upstream: int
) -> None:
    harness = Harness()
    response = await harness.run(_post(harness, client, upstream, b' \n[{"a":1}]'), Store())
    assert response.status == 400 and harness.seen == []
    if client == 0:
        assert response.json == {"error": DEFAULT_DESCRIPTIONS["FeatureUnavailable"]}
    else:
        assert response.json["error"] == "FeatureUnavailable"
        assert response.json["debug"] == NOT_AVAILABLE
    assert harness.metrics.refused == [
        ("CollectionsAcceptManyEntitiesInOnePost", "FeatureUnavailable")
    ]


async def test_gzipped_arrays_are_recognised_too() -> None:
    harness = Harness()
    raw = gzip.compress(b'[{"a":1}]')
    response = await harness.run(_post(harness, 4, 6, raw, {"Content-Encoding": "gzip"}), Store())
    assert response.status == 400 and harness.seen == []


@pytest.mark.parametrize("raw", [b'{"a":1}', b'\xef\xbb\xbf  {"a": [1]}', b"{not json", b""])
async def test_anything_but_an_array_passes_byte_for_byte(raw: bytes) -> None:
    harness = Harness()

    async def echo(request: RequestInfo) -> ResponseInfo:
        return json_answer(201, {"len": len(request.body or b"")})

    response = await harness.run(_post(harness, 4, 6, raw), echo)
    assert response.status == 201  # even "{not json": the upstream judges it, as before
    assert harness.seen[0].body == raw


async def test_a_malformed_array_is_a_json_parse_error() -> None:
    harness = Harness()
    response = await harness.run(_post(harness, 4, 6, b'[{"a":1},'), Store())
    assert response.status == 400 and response.json["error"] == "JSONParseError"
    assert harness.seen == []


async def test_newer_clients_on_a_v4_upstream_get_one_post_per_entity_in_order() -> None:
    harness, store = Harness(), Store()
    entities = [{"_id": f"b{i}", "n": i} for i in range(20)]
    response = await harness.run(_post(harness, 5, 4, json.dumps(entities).encode()), store)
    assert response.status == 201
    assert response.json == {"entities": entities, "errors": []}
    assert sorted(json.loads(seen.body or b"")["n"] for seen in harness.seen) == list(range(20))
    assert all(seen.raw_path == BOOKS for seen in harness.seen)
    assert all(seen.headers["Authorization"] == MASTER_AUTH for seen in harness.seen)
    assert 1 < store.most_active <= 8


async def test_partial_failures_answer_207_with_the_errors_by_index() -> None:
    harness, store = Harness(), Store()
    body = [{"_id": "a"}, {"_id": "a"}, 7, {"_id": "c"}]
    response = await harness.run(_post(harness, 6, 4, json.dumps(body).encode()), store)
    assert response.status == 207
    assert response.json["entities"] == [{"_id": "a"}, None, None, {"_id": "c"}]
    assert response.json["errors"] == [
        {
            "index": 1,
            "error": "EntityAlreadyExists",
            "description": "EntityAlreadyExists text",
            "debug": "duplicate",
        },
        {
            "index": 2,
            "error": "BadRequest",
            "description": DEFAULT_DESCRIPTIONS["BadRequest"],
            "debug": "An entity must be a JSON object",
        },
    ]
    assert len(harness.seen) == 3  # the non-object never went upstream


class SlowFirstTwin(Store):
    """An upstream that takes longer over the entity with ``n == 1`` than over the others."""

    async def __call__(self, request: RequestInfo) -> ResponseInfo:
        if isinstance(request.json, dict) and request.json.get("n") == 1:
            for _ in range(20):
                await asyncio.sleep(0)
        return await super().__call__(request)


async def test_entities_sharing_an_id_reach_the_upstream_in_array_order() -> None:
    """A v5 backend inserts one after another: the first of two equal ``_id``s wins, however
    slowly the upstream answers it."""
    harness, store = Harness(), SlowFirstTwin()
    body = [{"n": 0}, {"_id": "t", "n": 1}, {"_id": "t", "n": 2}, {"n": 3}]
    response = await harness.run(_post(harness, 6, 4, json.dumps(body).encode()), store)
    assert response.status == 207
    assert response.json["entities"][1] == {"_id": "t", "n": 1}
    assert response.json["entities"][2] is None
    assert [error["index"] for error in response.json["errors"]] == [2]
    assert store.saved["t"]["n"] == 1


@pytest.mark.parametrize(("size", "status"), [(0, 400), (101, 413)])
async def test_empty_and_oversized_arrays_are_refused(size: int, status: int) -> None:
    harness = Harness()
    raw = json.dumps([{"n": i} for i in range(size)]).encode()
    response = await harness.run(_post(harness, 5, 4, raw), Store())
    assert response.status == status and response.json["error"] == "BadRequest"
    assert harness.seen == []


async def test_refused_credentials_refuse_the_whole_request_after_one_try() -> None:
    harness = Harness()
    raw = json.dumps([{"n": i} for i in range(5)]).encode()
    response = await harness.run(_post(harness, 5, 4, raw), Store(refuse_auth=True))
    assert response.status == 401 and response.json["error"] == "InvalidCredentials"
    assert len(harness.seen) == 1


async def test_single_objects_pass_on_newer_clients_too() -> None:
    harness = Harness()
    response = await harness.run(_post(harness, 5, 4, b'{"_id": "x"}'), Store())
    assert response.status == 201 and response.json == {"_id": "x"}
    assert harness.seen[0].body == b'{"_id": "x"}'


async def test_end_to_end_against_the_emulator(
    start_gateway_on_emulator: StartGatewayOnEmulator, http_session: aiohttp.ClientSession
) -> None:
    on_v6 = await start_gateway_on_emulator(6)
    on_v4 = await start_gateway_on_emulator(4, versions=(0, 4))
    old = KinveyClient(on_v6.url, 4, session=http_session)
    refused = await old.call("POST", BOOKS, auth=MASTER_AUTH, body=[{"n": 1}])
    assert refused.status == 400 and refused.json["debug"] == NOT_AVAILABLE
    single = await old.call("POST", BOOKS, auth=MASTER_AUTH, body={"n": 1})
    assert single.status == 201, single.raw

    new = KinveyClient(on_v4.url, 5, session=http_session)
    body = [{"_id": f"b{i}", "n": i} for i in range(12)] + [{"_id": "b0"}]
    inserted = await new.call("POST", BOOKS, auth=MASTER_AUTH, body=body)
    assert inserted.status == 207, inserted.raw
    assert [e and e["n"] for e in inserted.json["entities"]] == [*range(12), None]
    [error] = inserted.json["errors"]
    assert error["index"] == 12 and error["error"] == "EntityAlreadyExists"
    listed = await new.call("GET", quoted(BOOKS + '?sort={"n":1}'), auth=MASTER_AUTH)
    assert [b["n"] for b in listed.json] == list(range(12))


@pytest.mark.parametrize(("client", "pin"), [(4, 5), (5, 4)])
async def test_arrays_posted_elsewhere_are_not_refused_or_split(client: int, pin: int) -> None:
    path = f"/rpc/{APP_KEY}/custom/import"
    await assert_untouched("POST", path, client, pin, body=[{"a": 1}, {"b": 2}], answer={})
