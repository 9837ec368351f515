"""Data store scenarios: handshake, CRUD and queries, deletes, result-set limit, multi-insert,
error shapes, and a pass-through custom endpoint."""

from __future__ import annotations

import json

from tests.conftest import APP_KEY
from tests.e2e.accounts import USERS, new_user
from tests.e2e.client import MASTER_AUTH, KinveyClient, basic
from tests.e2e.servers import RESULT_SET_LIMIT


def _q(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


async def handshake(c: KinveyClient) -> None:
    user = await new_user(c, "hello")
    await c.call("anonymous handshake", "GET", "/appdata/")
    await c.call(
        "handshake with the app secret",
        "GET",
        f"/appdata/{APP_KEY}",
        auth=basic(APP_KEY, "test-app-secret"),
    )
    await c.call("handshake as a user", "GET", f"/appdata/{APP_KEY}", auth=c.auth(user))
    await c.call(
        "handshake with a wrong app secret",
        "GET",
        f"/appdata/{APP_KEY}",
        auth=basic(APP_KEY, "nope"),
    )


async def entity_crud(c: KinveyClient) -> None:
    user = await new_user(c, "crud")
    auth = c.auth(user)
    coll = f"/appdata/{APP_KEY}/{c.unique('things')}"
    await c.call("create with a generated _id", "POST", coll, auth=auth, body={"name": "a", "n": 1})
    await c.call("create with a chosen _id", "POST", coll, auth=auth, body={"_id": "fixed", "n": 2})
    await c.call("create a duplicate _id", "POST", coll, auth=auth, body={"_id": "fixed", "n": 9})
    await c.call("read by id", "GET", f"{coll}/fixed", auth=auth)
    await c.call("update with PUT", "PUT", f"{coll}/fixed", auth=auth, body={"n": 3, "tag": "x"})
    await c.call("create with PUT", "PUT", f"{coll}/made", auth=auth, body={"n": 4})
    await c.call("list all", "GET", coll, auth=auth, params={"sort": _q({"n": 1})})
    query = {"query": _q({"n": {"$gte": 2}}), "sort": _q({"n": -1})}
    await c.call("query n >= 2", "GET", coll, auth=auth, params=query)
    paged = {"sort": _q({"n": 1}), "skip": "1", "limit": "1", "fields": "n"}
    await c.call("fields, skip and limit", "GET", coll, auth=auth, params=paged)
    await c.call("_count", "GET", f"{coll}/_count", auth=auth)
    await c.call(
        "_count with a query", "GET", f"{coll}/_count", auth=auth, params={"query": _q({"n": 4})}
    )
    await c.call("read a missing id", "GET", f"{coll}/missing", auth=auth)


async def deletes(c: KinveyClient) -> None:
    user = await new_user(c, "deleter")
    auth = c.auth(user)
    coll = f"/appdata/{APP_KEY}/{c.unique('doomed')}"
    for n in range(1, 5):
        await c.call(None, "PUT", f"{coll}/e{n}", auth=auth, body={"n": n}, expect=201)
    await c.call("delete by id", "DELETE", f"{coll}/e1", auth=auth)
    await c.call("delete a missing id", "DELETE", f"{coll}/e1", auth=auth)
    await c.call(
        "delete by query (2 match)",
        "DELETE",
        coll,
        auth=auth,
        params={"query": _q({"n": {"$lte": 3}})},
    )
    await c.call(
        "delete by query (none match)", "DELETE", coll, auth=auth, params={"query": _q({"n": 99})}
    )
    await c.call("delete without a query", "DELETE", coll, auth=auth)
    await c.call("_count afterwards", "GET", f"{coll}/_count", auth=auth)


async def result_set_limit(c: KinveyClient) -> None:
    user = await new_user(c, "reader")
    auth = c.auth(user)
    coll = f"/appdata/{APP_KEY}/{c.unique('many')}"
    total = RESULT_SET_LIMIT + 3
    for n in range(1, total + 1):
        await c.call(None, "PUT", f"{coll}/e{n}", auth=MASTER_AUTH, body={"n": n}, expect=201)
    by_n = _q({"n": 1})
    cases: list[tuple[str, dict[str, str]]] = [
        ("no limit, sorted", {"sort": by_n}),
        ("no limit, stored order", {}),
        ("limit below the result-set limit", {"sort": by_n, "limit": "3"}),
        ("limit above the result-set limit", {"sort": by_n, "limit": "20"}),
        ("skip 2 (6 left)", {"sort": by_n, "skip": "2"}),
        ("skip 4 (4 left)", {"sort": by_n, "skip": "4"}),
        ("query matching exactly the limit", {"query": _q({"n": {"$lte": RESULT_SET_LIMIT}})}),
        (
            "query matching 6, fields, reverse",
            {"query": _q({"n": {"$gte": 3}}), "fields": "n", "sort": _q({"n": -1})},
        ),
        ("limit 0 (no limit)", {"sort": by_n, "limit": "0"}),
    ]
    for label, params in cases:
        await c.call(label, "GET", coll, auth=auth, params=params)
    await c.call("_count", "GET", f"{coll}/_count", auth=auth)


async def multi_insert(c: KinveyClient) -> None:
    user = await new_user(c, "batcher")
    auth = c.auth(user)
    coll = f"/appdata/{APP_KEY}/{c.unique('batch')}"
    await c.call("single insert", "POST", coll, auth=auth, body={"_id": "dup", "n": 0})
    await c.call("insert two", "POST", coll, auth=auth, body=[{"n": 1}, {"_id": "b2", "n": 2}])
    mixed = [{"n": 3}, {"_id": "dup", "n": 4}, 5, {"_id": "b6", "n": 6}]
    await c.call("insert with failures", "POST", coll, auth=auth, body=mixed)
    await c.call("insert an empty array", "POST", coll, auth=auth, body=[])
    await c.call(
        "insert 101 entities", "POST", coll, auth=auth, body=[{"n": n} for n in range(101)]
    )
    await c.call("_count afterwards", "GET", f"{coll}/_count", auth=auth)
    await c.call("read one inserted entity", "GET", f"{coll}/b6", auth=auth)


async def error_shapes(c: KinveyClient) -> None:
    user = await new_user(c, "oops")
    other = await new_user(c, "other")
    auth = c.auth(user)
    coll = f"/appdata/{APP_KEY}/{c.unique('errs')}"
    await c.call("read a missing entity", "GET", f"{coll}/nope", auth=auth)
    await c.call("query with invalid syntax", "GET", coll, auth=auth, params={"query": "{bad"})
    await c.call("limit that is not a number", "GET", coll, auth=auth, params={"limit": "abc"})
    await c.call("read without credentials", "GET", coll)
    await c.call(
        "read of an unknown app",
        "GET",
        f"/appdata/kid_other/{c.unique('x')}",
        auth=basic("kid_other", "s"),
    )
    await c.call("malformed JSON body", "POST", coll, auth=auth, raw_body=b'{"a":')
    await c.call("a string as entity", "POST", coll, auth=auth, body="text")
    await c.call("read an unknown user", "GET", f"{USERS}/{'0' * 24}", auth=MASTER_AUTH)
    await c.call("update another user", "PUT", f"{USERS}/{other.user_id}", auth=auth, body={"x": 1})
    await c.call("unknown path", "GET", f"/nonsense/{APP_KEY}", auth=auth)
    await c.call("method not allowed", "DELETE", f"/appdata/{APP_KEY}", auth=auth)


async def custom_endpoint(c: KinveyClient) -> None:
    user = await new_user(c, "rpc")
    rpc = f"/rpc/{APP_KEY}/custom/echo"
    body = {"x": 1, "who": c.unique("caller"), "list": [1, "two"]}
    await c.call("custom endpoint as a user", "POST", rpc, auth=c.auth(user), body=body)
    await c.call("custom endpoint with the master secret", "POST", rpc, auth=MASTER_AUTH, body={})
    await c.call("custom endpoint without a body", "POST", rpc, auth=c.auth(user))
    await c.call("custom endpoint without credentials", "POST", rpc, body={})
    await c.call(
        "other rpc path", "POST", f"/rpc/{APP_KEY}/nothing-here", auth=c.auth(user), body={}
    )
