"""``/appdata/:appKey/:collection/_group`` and ``/_deltaset``: aggregation and delta sync.

``POST …/_group`` with ``{"key", "initial", "reduce", "condition"}`` answers one object per
group (grouping.py). ``GET …/_deltaset?since=<time>[&query=]`` answers ``{"changed": [entities
written since then that match], "deleted": [{"_id"} of entities deleted since then]}``; the
``since`` a client sends is the ``X-Kinvey-Request-Start`` of its previous read, which every
collection read carries. A missing ``since`` is ``400 MissingRequestParameter``, one that is not
an ISO 8601 time ``400 ParameterValueOutOfRange``. Both routes see only what the caller may read.
"""

from __future__ import annotations

from aiohttp import web

from gateway.emulator.grouping import GroupSyntaxError, group
from gateway.emulator.listing import matching, query_of
from gateway.emulator.responses import json_response, kinvey_error
from gateway.emulator.routes_appdata import REQUEST_START_HEADER, visible_entities
from gateway.emulator.routing import Call
from gateway.emulator.store import CLOCK, parse_iso_time


async def group_entities(call: Call) -> web.StreamResponse:
    docs = visible_entities(call)
    body = await call.json_object()
    condition = body.get("condition", {})
    if not isinstance(condition, dict):
        raise kinvey_error("InvalidQuerySyntax", "condition must be a query object")
    selected = matching(docs, condition)
    try:
        grouped = group(selected, body.get("key"), body.get("initial"), body.get("reduce"))
    except GroupSyntaxError as exc:
        raise kinvey_error("BadRequest", str(exc)) from None
    return json_response(grouped)


def _time_of(text: object) -> float:
    moment = parse_iso_time(text) if isinstance(text, str) else None
    return moment if moment is not None else 0.0


async def deltaset(call: Call) -> web.StreamResponse:
    started = CLOCK.tick()
    docs = visible_entities(call)
    raw_since = call.arg("since")
    if not raw_since:
        raise kinvey_error("MissingRequestParameter", "_deltaset needs ?since=<ISO 8601 time>")
    since = parse_iso_time(raw_since)
    if since is None:
        raise kinvey_error("ParameterValueOutOfRange", "since must be an ISO 8601 time")
    changed = [doc for doc in matching(docs, query_of(call)) if _lmt(doc) >= since]
    tombstones = call.store.tombstones.get(call.params["collection"], {})
    deleted = [{"_id": key} for key, when in tombstones.items() if _time_of(when) >= since]
    response = json_response({"changed": changed, "deleted": deleted})
    response.headers[REQUEST_START_HEADER] = started
    return response


def _lmt(doc: dict[str, object]) -> float:
    kmd = doc.get("_kmd")
    return _time_of(kmd.get("lmt")) if isinstance(kmd, dict) else 0.0
