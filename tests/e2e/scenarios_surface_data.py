"""Data-store edges: entity ``_acl``/``_kmd``, unusual ids and collection names, multi-insert and
result-set limit edges, chunked and large bodies, HEAD, and the version header in any case."""

from __future__ import annotations

from urllib.parse import quote

from tests.conftest import APP_KEY
from tests.e2e.accounts import new_user
from tests.e2e.client import APP_AUTH, MASTER_AUTH, KinveyClient, chunked
from tests.e2e.scenarios_queries import q
from tests.e2e.servers import RESULT_SET_LIMIT


async def entity_acl(c: KinveyClient) -> None:
    owner = await new_user(c, "acl-owner")
    reader = await new_user(c, "acl-reader")
    stranger = await new_user(c, "acl-stranger")
    coll = f"/appdata/{APP_KEY}/{c.unique('guarded')}"
    mine, theirs = c.auth(owner), c.auth(stranger)
    forged = {"creator": "someone-else", "gr": False, "r": [reader.user_id]}
    entities = {
        "open": {"n": 1, "_kmd": {"lmt": "forged", "ect": "forged"}},
        "private": {"n": 2, "_acl": forged},
        "writable": {"n": 3, "_acl": {"gw": True}},
    }
    for name, body in entities.items():
        await c.call(f"create {name}", "PUT", f"{coll}/{name}", auth=mine, body=body)
    await c.call("the owner lists", "GET", coll, auth=mine, params={"sort": q({"n": 1})})
    await c.call("a stranger lists", "GET", coll, auth=theirs, params={"sort": q({"n": 1})})
    await c.call("a stranger counts", "GET", f"{coll}/_count", auth=theirs)
    await c.call("a stranger reads a private entity", "GET", f"{coll}/private", auth=theirs)
    await c.call("a listed reader reads it", "GET", f"{coll}/private", auth=c.auth(reader))
    await c.call("a stranger updates", "PUT", f"{coll}/open", auth=theirs, body={"n": 9})
    await c.call("a stranger deletes", "DELETE", f"{coll}/open", auth=theirs)
    shared = {"n": 4, "_acl": {"gw": True}}
    await c.call(
        "a stranger updates a gw entity", "PUT", f"{coll}/writable", auth=theirs, body=shared
    )
    await c.call("the master reads the private entity", "GET", f"{coll}/private", auth=MASTER_AUTH)


UNUSUAL_IDS = ("café-☕", "a+b", "a/b", "sp ace", "100%", "semi;colon")


async def unusual_names(c: KinveyClient) -> None:
    user = await new_user(c, "oddities")
    auth = c.auth(user)
    collection = c.unique("Sammlung-ü+x")
    coll = f"/appdata/{APP_KEY}/{quote(collection, safe='')}"
    for index, entity_id in enumerate(UNUSUAL_IDS):
        path = f"{coll}/{quote(entity_id, safe='')}"
        await c.call(f"PUT id {entity_id!r}", "PUT", path, auth=auth, body={"n": index})
        await c.call(f"GET id {entity_id!r}", "GET", path, auth=auth)
    await c.call("list the collection", "GET", coll, auth=auth, params={"sort": q({"n": 1})})
    await c.call(
        "query by an unusual id", "GET", coll, auth=auth, params={"query": q({"_id": "a/b"})}
    )
    await c.call("POST with an unusual id", "POST", coll, auth=auth, body={"_id": "x+y/z", "n": 9})
    await c.call("GET it by its encoded id", "GET", f"{coll}/x%2By%2Fz", auth=auth)
    await c.call("a '+' in the path is not a space", "GET", f"{coll}/x+y%2Fz", auth=auth)
    await c.call("DELETE an unusual id", "DELETE", f"{coll}/{quote('a/b', safe='')}", auth=auth)
    await c.call("_count afterwards", "GET", f"{coll}/_count", auth=auth)
    nested = f"/appdata/{APP_KEY}/{quote(c.unique('dir/sub'), safe='')}"
    await c.call("PUT into a collection named with '/'", "PUT", f"{nested}/e1", auth=auth, body={})
    await c.call("list the collection named with '/'", "GET", nested, auth=auth)


async def multi_insert_edges(c: KinveyClient) -> None:
    user = await new_user(c, "batch-edges")
    auth = c.auth(user)
    coll = f"/appdata/{APP_KEY}/{c.unique('edges')}"
    await c.call("insert exactly 100", "POST", coll, auth=auth, body=[{"n": n} for n in range(100)])
    twins = [{"n": 0}, {"_id": "twin", "n": 1}, {"_id": "twin", "n": 2}, {"_id": "solo", "n": 3}]
    await c.call("insert duplicate ids in one array", "POST", coll, auth=auth, body=twins)
    await c.call("read the twin", "GET", f"{coll}/twin", auth=auth)
    invalid = ["text", 7, None, [1], {"_id": ""}]
    await c.call("insert only invalid entities", "POST", coll, auth=auth, body=invalid)
    await c.call("insert only existing ids", "POST", coll, auth=auth, body=[{"_id": "solo"}])
    await c.call("_count afterwards", "GET", f"{coll}/_count", auth=auth)
    nested = f"/appdata/{APP_KEY}/{quote(c.unique('dir/sub'), safe='')}"
    await c.call("PUT into a collection named with '/'", "PUT", f"{nested}/e1", auth=auth, body={})
    await c.call("list the collection named with '/'", "GET", nested, auth=auth)


async def result_set_edges(c: KinveyClient) -> None:
    user = await new_user(c, "edge-reader")
    auth = c.auth(user)
    coll = f"/appdata/{APP_KEY}/{c.unique('edge-many')}"
    total, limit = RESULT_SET_LIMIT + 3, RESULT_SET_LIMIT
    for n in range(1, total + 1):
        await c.call(None, "PUT", f"{coll}/e{n}", auth=MASTER_AUTH, body={"n": n}, expect=201)
    by_n = q({"n": 1})
    exactly = q({"n": {"$lte": limit}})
    cases: list[tuple[str, dict[str, str]]] = [
        ("count - skip exactly at the limit", {"sort": by_n, "skip": str(total - limit)}),
        ("count - skip one above the limit", {"sort": by_n, "skip": str(total - limit - 1)}),
        ("limit equal to the limit", {"sort": by_n, "limit": str(limit)}),
        ("limit above the limit, more match", {"sort": by_n, "limit": str(limit + 1)}),
        ("limit above the limit, exactly the limit match", {"query": exactly, "limit": "50"}),
        (
            "limit above the limit, skip leaves the limit",
            {"sort": by_n, "skip": "3", "limit": "50"},
        ),
        ("query at the limit, with skip", {"query": exactly, "skip": "1", "sort": by_n}),
    ]
    for label, params in cases:
        await c.call(label, "GET", coll, auth=auth, params=params)
    # A HEAD carries no body to tell ResultSetSizeExceeded by; the status must still be right.
    await c.call("HEAD of more than the limit", "HEAD", coll, auth=auth)
    await c.call("HEAD of exactly the limit", "HEAD", coll, auth=auth, params={"skip": "3"})
    await c.call(
        "_count with a query at the limit",
        "GET",
        f"{coll}/_count",
        auth=auth,
        params={"query": exactly},
    )


LARGE_TEXT = "ÿ" * 300_000  # 600 kB of UTF-8 in one field


async def bodies_and_methods(c: KinveyClient) -> None:
    user = await new_user(c, "bodies")
    auth = c.auth(user)
    coll = f"/appdata/{APP_KEY}/{c.unique('bodies')}"
    raw = b'{"_id": "chunked", "n": 1, "text": "\xc3\xa9t\xc3\xa9"}'
    await c.call("chunked POST", "POST", coll, auth=auth, raw_body=chunked(raw, 7))
    large = q({"_id": "large", "text": LARGE_TEXT}).encode()
    await c.call("large chunked POST", "POST", coll, auth=auth, raw_body=chunked(large, 65536))
    await c.call(
        "read the large entity", "GET", f"{coll}/large", auth=auth, params={"fields": "_id"}
    )
    batch = q([{"n": n, "pad": "x" * 1000} for n in range(20)]).encode()
    await c.call("chunked multi-insert", "POST", coll, auth=auth, raw_body=chunked(batch, 4096))
    signup = q({"username": c.unique("chunky"), "password": "pw"}).encode()
    await c.call(
        "chunked signup", "POST", f"/user/{APP_KEY}", auth=APP_AUTH, raw_body=chunked(signup, 5)
    )
    await c.call("HEAD of an entity", "HEAD", f"{coll}/chunked", auth=auth)
    await c.call("HEAD of a missing entity", "HEAD", f"{coll}/nothing", auth=auth)
    await c.call("HEAD of _count", "HEAD", f"{coll}/_count", auth=auth)
    for spelling in ("x-kinvey-api-version", "X-KINVEY-API-VERSION", "X-Kinvey-Api-Version"):
        await c.call(
            f"read with {spelling}",
            "GET",
            f"{coll}/chunked",
            auth=auth,
            headers={spelling: str(c.version)},
        )
    await c.call(
        "delete with the header in lower case",
        "DELETE",
        f"{coll}/chunked",
        auth=auth,
        headers={"x-kinvey-api-version": str(c.version)},
    )
