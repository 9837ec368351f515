"""Query scenarios: modifiers and operators, ``_count`` with queries, ``_group``, ``_deltaset``.

All of it is pass-through for the gateway (spec §5) except the error shapes (§2) and, for
listings, the result-set limit (§4 v4); the values carry unicode and URL-reserved characters
so that no layer may re-encode a query on its way.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import APP_KEY
from tests.e2e.accounts import new_user
from tests.e2e.client import MASTER_AUTH, KinveyClient

# Values that must survive percent-encoding, JSON and any re-encoding unchanged.
RESERVED = 'a&b=c?d#e%f+g/h "quoted" \\ back'
ENTITIES: list[dict[str, Any]] = [
    {"_id": "q1", "city": "Zürich", "n": 3, "tags": ["x", "y"], "meta": {"age": 30}},
    {"_id": "q2", "city": "東京", "n": 1, "tags": ["y"], "meta": {"age": 20}, "note": RESERVED},
    {"_id": "q3", "city": "Zürich", "n": 2, "tags": [], "emoji": "🦊 fox"},
    {"_id": "q4", "city": "oslo", "n": 3, "tags": ["x", "y", "z"], "meta": {"age": 40}},
    {"_id": "q5", "city": "Oslo", "n": 5},
]


def q(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def _seed(c: KinveyClient, label: str) -> str:
    coll = f"/appdata/{APP_KEY}/{c.unique(label)}"
    for entity in ENTITIES:
        path = f"{coll}/{entity['_id']}"
        await c.call(None, "PUT", path, auth=MASTER_AUTH, body=entity, expect=201)
    return coll


QUERIES: tuple[tuple[str, dict[str, str]], ...] = (
    ("sort on two fields", {"sort": q({"city": 1, "n": -1})}),
    ("sort on a nested field, descending", {"sort": q({"meta.age": -1, "_id": 1})}),
    (
        "fields, skip and limit",
        {"sort": q({"_id": 1}), "fields": "city,meta.age", "skip": "1", "limit": "2"},
    ),
    ("skip past the end", {"sort": q({"_id": 1}), "skip": "9"}),
    ("$regex, anchored", {"query": q({"city": {"$regex": "^Z"}}), "sort": q({"_id": 1})}),
    ("$regex with $options i", {"query": q({"city": {"$regex": "^oslo$", "$options": "i"}})}),
    ("$regex on unicode", {"query": q({"city": {"$regex": "京"}})}),
    ("$exists true", {"query": q({"meta": {"$exists": True}}), "sort": q({"_id": 1})}),
    ("$exists false", {"query": q({"tags": {"$exists": False}})}),
    ("$nin", {"query": q({"n": {"$nin": [1, 3]}}), "sort": q({"_id": 1})}),
    ("$all", {"query": q({"tags": {"$all": ["x", "y"]}}), "sort": q({"_id": 1})}),
    ("$size", {"query": q({"tags": {"$size": 1}})}),
    ("$not", {"query": q({"n": {"$not": {"$gte": 3}}}), "sort": q({"_id": 1})}),
    ("$nor", {"query": q({"$nor": [{"city": "Zürich"}, {"n": 5}]}), "sort": q({"_id": 1})}),
    ("$or of $and", {"query": q({"$or": [{"$and": [{"n": 3}, {"city": "oslo"}]}, {"n": 1}]})}),
    ("unicode value", {"query": q({"city": "Zürich"}), "sort": q({"n": 1})}),
    ("emoji value", {"query": q({"emoji": "🦊 fox"})}),
    ("reserved characters in a value", {"query": q({"note": RESERVED})}),
    ("unknown operator", {"query": q({"n": {"$where": "this.n > 1"}})}),
    ("bad sort direction", {"sort": q({"n": 2})}),
    ("negative skip", {"skip": "-1"}),
)

COUNTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("_count with $regex", {"query": q({"city": {"$regex": "^[Oo]"}})}),
    ("_count with unicode", {"query": q({"city": "Zürich"})}),
    ("_count with reserved characters", {"query": q({"note": RESERVED})}),
    ("_count with $all", {"query": q({"tags": {"$all": ["y"]}})}),
    ("_count with invalid JSON", {"query": "{city:"}),
)


async def query_operators(c: KinveyClient) -> None:
    user = await new_user(c, "querier")
    auth = c.auth(user)
    coll = await _seed(c, "places")
    for label, params in QUERIES:
        await c.call(label, "GET", coll, auth=auth, params=params)
    for label, params in COUNTS:
        await c.call(label, "GET", f"{coll}/_count", auth=auth, params=params)


COUNT_BY_CITY = "function(doc, out) { out.count++; return out; }"
STATS = (
    'function(doc, out) { out.sum += doc["n"]; out.min = Math.min(out.min, doc.n); '
    "out.max = Math.max(out.max, doc.n); return out; }"
)
AVERAGE = (
    'function(doc, out) { out.average = (out.average * out.count + doc["n"]) / (out.count + 1); '
    "out.count += 1; return out; }"
)


async def group_and_deltaset(c: KinveyClient) -> None:
    user = await new_user(c, "aggregator")
    auth = c.auth(user)
    coll = await _seed(c, "stats")
    groups: list[tuple[str, dict[str, Any]]] = [
        (
            "_group: count by city",
            {"key": {"city": True}, "initial": {"count": 0}, "reduce": COUNT_BY_CITY},
        ),
        (
            "_group: sum, min and max with a condition",
            {
                "key": {"city": True},
                "initial": {"sum": 0, "min": None, "max": None},
                "reduce": STATS,
                "condition": {"n": {"$gte": 2}},
            },
        ),
        (
            "_group: average of all",
            {"key": {}, "initial": {"count": 0, "average": 0}, "reduce": AVERAGE},
        ),
        (
            "_group: a reduce it cannot run",
            {"key": {}, "initial": {}, "reduce": "function(d, o) { o.x = d; }"},
        ),
        (
            "_group: a bad condition",
            {"key": {}, "initial": {}, "reduce": COUNT_BY_CITY, "condition": {"$x": 1}},
        ),
    ]
    for label, body in groups:
        await c.call(label, "POST", f"{coll}/_group", auth=auth, body=body)
    listed = await c.call(
        "list before syncing", "GET", coll, auth=auth, params={"sort": q({"_id": 1})}
    )
    since = listed.headers.get("X-Kinvey-Request-Start")
    c.note("the listing carries X-Kinvey-Request-Start", since is not None)
    await c.call(
        None, "PUT", f"{coll}/q1", auth=MASTER_AUTH, body={"city": "Bern", "n": 7}, expect=200
    )
    await c.call(
        None, "PUT", f"{coll}/q9", auth=MASTER_AUTH, body={"city": "Rome", "n": 9}, expect=201
    )
    await c.call(None, "DELETE", f"{coll}/q2", auth=MASTER_AUTH, expect=(200, 204))
    delta = {"since": since or "none"}
    await c.call("_deltaset since the listing", "GET", f"{coll}/_deltaset", auth=auth, params=delta)
    filtered = {**delta, "query": q({"n": {"$gt": 8}})}
    await c.call("_deltaset with a query", "GET", f"{coll}/_deltaset", auth=auth, params=filtered)
    await c.call("_deltaset without since", "GET", f"{coll}/_deltaset", auth=auth)
    await c.call(
        "_deltaset with a bad since",
        "GET",
        f"{coll}/_deltaset",
        auth=auth,
        params={"since": "soon"},
    )
