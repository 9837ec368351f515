"""v5: one POST can insert up to 100 entities."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from gateway.kinvey.errors import KinveyError, describe, is_error_body
from gateway.kinvey.json_body import BodyDecodeError
from gateway.versioning import Next, RequestInfo, ResponseInfo, VersionChange, newer, older

MAX_ENTITIES = 100
FAN_OUT_CONCURRENCY = 8
_JSON_WHITESPACE = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"


class CollectionsAcceptManyEntitiesInOnePost(VersionChange):
    """A POST to a collection may insert several entities at once

    From v5, `POST /appdata/:appKey/:collection` with a JSON array of 1 to 100 entities answers
    `{"entities": [<entity or null>…], "errors": [{"index", "error", "description", "debug"}…]}`
    with `201` when all were inserted and `207` otherwise; an empty array is `400 BadRequest`,
    more than 100 entities `413`. Older clients sending an array get `400 FeatureUnavailable`
    from the gateway, nothing sent upstream, as their versions answered. For v5+ clients on an
    older upstream the gateway inserts the entities one POST each (at most 8 at a time;
    entities naming the same `_id` one after another, so the first of them wins as on a v5
    backend) and assembles the v5 answer in the original order.
    """

    introduced_in = 5

    @older.request("POST", routes={"appdata.collection"}, reads_body=True)
    def refuse_multi_insert(request: RequestInfo) -> None:
        if _is_array(request):
            raise KinveyError(
                "FeatureUnavailable",
                debug="Inserting multiple entities is not available in this Kinvey API version",
            )

    @newer.around("POST", routes={"appdata.collection"}, reads_body=True)
    async def insert_one_by_one(request: RequestInfo, call_next: Next) -> ResponseInfo:
        if not _is_array(request):
            return await call_next(request)
        return await _fan_out(request, call_next, request.json)


def _is_array(request: RequestInfo) -> bool:
    """Whether the body is a JSON array, without parsing bodies that plainly are not one."""
    body = request.body or b""
    encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding == "identity":
        start = body.removeprefix(_UTF8_BOM).lstrip(_JSON_WHITESPACE)[:1]
        if start != b"[":
            return False  # an object (or garbage): the upstream judges it as before
    return isinstance(request.json, list)  # malformed JSON → 400 JSONParseError


def _refuse(status: int, debug: str) -> KinveyError:
    return KinveyError("BadRequest", debug=debug, status=status)


async def _fan_out(request: RequestInfo, call_next: Next, entities: list[Any]) -> ResponseInfo:
    if not entities:
        raise _refuse(400, "The array of entities to insert is empty")
    if len(entities) > MAX_ENTITIES:
        raise _refuse(413, f"At most {MAX_ENTITIES} entities can be inserted in one request")
    outcomes: list[ResponseInfo | None] = [None] * len(entities)
    pending = [i for i, entity in enumerate(entities) if isinstance(entity, dict)]
    if pending:
        # The first insert alone: credentials the upstream refuses refuse the whole request
        # (as a v5 backend checks them before the body), with nothing else inserted.
        first = pending.pop(0)
        answer = await _insert(request, call_next, entities[first])
        if answer.status == 401:
            return answer
        outcomes[first] = answer
    gate = asyncio.Semaphore(FAN_OUT_CONCURRENCY)

    async def insert_in_order(indices: list[int]) -> None:
        for index in indices:
            async with gate:
                outcomes[index] = await _insert(request, call_next, entities[index])

    await asyncio.gather(*(insert_in_order(chain) for chain in _chains_by_id(entities, pending)))
    saved: list[Any] = []
    errors: list[dict[str, Any]] = []
    for index, outcome in enumerate(outcomes):
        entity, error = _result(outcome)
        saved.append(entity)
        if error is not None:
            errors.append({"index": index, **error})
    return ResponseInfo.from_json(207 if errors else 201, {"entities": saved, "errors": errors})


def _chains_by_id(entities: list[Any], indices: list[int]) -> list[list[int]]:
    """The indices grouped by ``_id``, each group in array order. A v5 backend inserts one
    entity after another, so of two that name the same ``_id`` the first wins: those must
    reach the upstream one after the other, while different ids go concurrently."""
    chains: dict[str, list[int]] = {}
    for index in indices:
        entity = entities[index]
        key = json.dumps(entity["_id"], sort_keys=True) if "_id" in entity else f"#{index}"
        chains.setdefault(key, []).append(index)
    return list(chains.values())


async def _insert(request: RequestInfo, call_next: Next, entity: dict[str, Any]) -> ResponseInfo:
    single = copy.copy(request)
    single.headers = request.headers.copy()
    single.json = entity
    response = await call_next(single)
    try:
        await response.load()
    except KinveyError as broken:
        return ResponseInfo.from_error(broken)
    return response


def _result(outcome: ResponseInfo | None) -> tuple[Any, dict[str, Any] | None]:
    """``(entity or None, error body or None)`` of one insert; None: not an object at all."""
    if outcome is None:
        return None, KinveyError("BadRequest", debug="An entity must be a JSON object").body()
    try:
        body = outcome.json
    except BodyDecodeError:
        body = None
    if 200 <= outcome.status < 300 and isinstance(body, dict):
        return body, None
    if is_error_body(body):
        name = body["error"]
        return None, {
            "error": name,
            "description": describe(name, str(body.get("description") or "")),
            "debug": str(body.get("debug") or ""),
        }
    debug = f"the upstream answered {outcome.status} without a Kinvey error body"
    return None, KinveyError("KinveyInternalErrorRetry", debug=debug).body()
