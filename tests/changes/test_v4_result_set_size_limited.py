"""v4 result-set limit: re-issued with limit=L for older clients, enforced via _count upward."""

from __future__ import annotations

import aiohttp
import pytest

from gateway.versioning import RequestInfo, ResponseInfo
from tests.changes.support import MASTER_AUTH, Harness, StartEmulator, assert_untouched, json_answer
from tests.conftest import APP_KEY, StartGateway
from tests.support.kinvey_client import KinveyClient, quoted

LIMIT = 5
BOOKS = f"/appdata/{APP_KEY}/books"


class Collection:
    """An upstream at ``version`` holding ``size`` entities (every one matches any query)."""

    def __init__(self, version: int, size: int, count_status: int = 200) -> None:
        self.version = version
        self.size = size
        self.count_status = count_status

    async def __call__(self, request: RequestInfo) -> ResponseInfo:
        if request.route.name in ("appdata.count", "user.action"):
            if self.count_status != 200:
                return json_answer(self.count_status, {"error": "KinveyInternalErrorRetry"})
            return json_answer(200, {"count": self.size})
        if not (request.query("limit") or "0").isdigit():
            return json_answer(400, {"error": "ParameterValueOutOfRange"})
        skip = int(request.query("skip") or 0)
        limit = int(request.query("limit") or 0) or None
        found = list(range(self.size))[skip:]
        if (limit is None or limit > LIMIT) and len(found) > LIMIT:
            if self.version >= 4:
                return json_answer(400, {"error": "ResultSetSizeExceeded", "description": "x"})
            limit = LIMIT
        return json_answer(200, [{"_id": str(i)} for i in found[:limit]])


def _harness() -> Harness:
    return Harness(limits__result_set_limit=LIMIT)


async def _query(harness: Harness, path: str, client: int, upstream: Collection) -> ResponseInfo:
    request = harness.request(
        "GET", path, client, upstream.version, headers={"Authorization": MASTER_AUTH}
    )
    return await harness.run(request, upstream)


@pytest.mark.parametrize("client", [0, 1, 3])
async def test_older_clients_get_the_first_entities_instead_of_the_error(client: int) -> None:
    harness = _harness()
    query = "?query=%7B%22a%22%3A1%7D&sort=%7B%22b%22%3A-1%7D&skip=2&fields=a,b"
    response = await _query(harness, BOOKS + query, client, Collection(6, 12))
    assert response.status == 200
    assert [e["_id"] for e in response.json] == ["2", "3", "4", "5", "6"]
    assert [seen.raw_path for seen in harness.seen] == [BOOKS + query, BOOKS + query + "&limit=5"]
    assert harness.seen[1].headers["Authorization"] == MASTER_AUTH


async def test_a_limit_above_the_result_set_limit_is_lowered_to_it() -> None:
    harness = _harness()
    response = await _query(harness, BOOKS + "/?limit=50&_=r", 3, Collection(4, 12))
    assert len(response.json) == LIMIT
    assert harness.seen[1].raw_path == BOOKS + "/?_=r&limit=5"


async def test_user_queries_share_the_limit() -> None:
    harness = _harness()
    response = await _query(harness, f"/user/{APP_KEY}", 3, Collection(6, 9))
    assert len(response.json) == LIMIT


async def test_other_errors_and_small_results_pass_untouched() -> None:
    harness = _harness()

    async def bad_query(request: RequestInfo) -> ResponseInfo:
        return json_answer(400, {"error": "InvalidQuerySyntax", "description": "d", "debug": ""})

    request = harness.request("GET", BOOKS + "?query={", 3, 6)
    response = await harness.run(request, bad_query)
    assert response.json["error"] == "InvalidQuerySyntax" and len(harness.seen) == 1
    small = await _query(harness, BOOKS, 3, Collection(6, 3))
    assert len(small.json) == 3 and len(harness.seen) == 2


@pytest.mark.parametrize("query", ["", "?limit=0", "?limit=6", "?limit=10000&skip=0"])
async def test_newer_clients_on_a_v3_upstream_get_the_v4_error(query: str) -> None:
    harness = _harness()
    response = await _query(harness, BOOKS + query, 4, Collection(3, 12))
    assert response.status == 400
    assert response.json["error"] == "ResultSetSizeExceeded"
    assert "more than 5 results" in response.json["description"]
    assert harness.seen[-1].raw_path == BOOKS + "/_count"


async def test_the_count_keeps_the_query_byte_for_byte_and_honours_skip() -> None:
    harness = _harness()
    query = "?sort=x&query=%7B%22n%22%3A%20%7B%22%24gt%22%3A1%7D%7D&skip=7"
    response = await _query(harness, BOOKS + query, 6, Collection(3, 12))
    assert response.status == 200 and len(response.json) == LIMIT  # 12 - 7 = 5 is not over
    assert (
        harness.seen[-1].raw_path
        == BOOKS + "/_count?query=%7B%22n%22%3A%20%7B%22%24gt%22%3A1%7D%7D"
    )


async def test_no_count_when_the_answer_cannot_be_cut_short() -> None:
    harness = _harness()
    assert len((await _query(harness, BOOKS + "?limit=5", 4, Collection(3, 12))).json) == 5
    assert len((await _query(harness, BOOKS, 4, Collection(3, 4))).json) == 4
    invalid = await _query(harness, BOOKS + "?limit=x", 4, Collection(3, 12))
    assert invalid.json == {"error": "ParameterValueOutOfRange"}
    assert [seen.raw_path for seen in harness.seen] == [
        BOOKS + "?limit=5",
        BOOKS,
        BOOKS + "?limit=x",
    ]


async def _head(harness: Harness, path: str, client: int, upstream: Collection) -> ResponseInfo:
    request = harness.request(
        "HEAD", path, client, upstream.version, headers={"Authorization": MASTER_AUTH}
    )
    return await harness.run(request, upstream)


async def test_a_head_for_older_clients_is_capped_up_front() -> None:
    """A HEAD error has no body to recognise ResultSetSizeExceeded by (RFC 9110 §9.3.2)."""
    harness = _harness()
    response = await _head(harness, BOOKS + "?skip=1", 3, Collection(6, 12))
    assert response.status == 200
    assert [seen.raw_path for seen in harness.seen] == [BOOKS + "?skip=1&limit=5"]
    small = await _head(harness, BOOKS + "?limit=2", 3, Collection(6, 12))
    assert small.status == 200 and harness.seen[-1].raw_path == BOOKS + "?limit=2"


async def test_a_head_for_newer_clients_is_judged_by_count() -> None:
    harness = _harness()
    refused = await _head(harness, BOOKS + "?skip=6", 4, Collection(3, 12))
    assert refused.status == 400 and refused.json["error"] == "ResultSetSizeExceeded"
    assert harness.seen[-1].raw_path == BOOKS + "/_count"
    allowed = await _head(harness, BOOKS + "?skip=7", 4, Collection(3, 12))
    assert allowed.status == 200  # 12 - 7 = 5 is not over the limit


async def test_when_the_count_fails_the_entities_are_returned() -> None:
    harness = _harness()
    response = await _query(harness, BOOKS, 4, Collection(3, 12, count_status=500))
    assert response.status == 200 and len(response.json) == LIMIT


async def test_end_to_end_against_the_emulator(
    start_emulator: StartEmulator, start_gateway: StartGateway, http_session: aiohttp.ClientSession
) -> None:
    v6_upstream = await start_emulator(min_api_version=6, max_api_version=6, result_set_limit=LIMIT)
    v3_upstream = await start_emulator(min_api_version=0, max_api_version=3, result_set_limit=LIMIT)
    on_v6 = await start_gateway(v6_upstream, pin=6, limits__result_set_limit=LIMIT)
    on_v3 = await start_gateway(v3_upstream, pin=3, limits__result_set_limit=LIMIT)
    for upstream in (v6_upstream, v3_upstream):
        direct = KinveyClient(upstream, None, session=http_session)
        for n in range(8):
            saved = await direct.call("POST", BOOKS, auth=MASTER_AUTH, body={"n": n})
            assert saved.status == 201, saved.raw

    old = KinveyClient(on_v6.url, 3, session=http_session)
    capped = await old.call("GET", quoted(BOOKS + '?sort={"n":1}'), auth=MASTER_AUTH)
    assert capped.status == 200, capped.raw
    assert [b["n"] for b in capped.json] == [0, 1, 2, 3, 4]
    tail = await old.call("GET", quoted(BOOKS + '?sort={"n":1}&skip=6'), auth=MASTER_AUTH)
    assert [b["n"] for b in tail.json] == [6, 7]

    new = KinveyClient(on_v3.url, 4, session=http_session)
    refused = await new.call("GET", BOOKS, auth=MASTER_AUTH)
    assert refused.status == 400 and refused.json["error"] == "ResultSetSizeExceeded"
    selective = await new.call("GET", quoted(BOOKS + '?query={"n":{"$gte":3}}'), auth=MASTER_AUTH)
    assert selective.status == 200 and len(selective.json) == 5
    limited = await new.call("GET", BOOKS + "?limit=5", auth=MASTER_AUTH)
    assert limited.status == 200 and len(limited.json) == 5


@pytest.mark.parametrize(("client", "pin"), [(3, 4), (4, 3)])
async def test_reads_that_are_not_queries_are_not_capped_or_counted(client: int, pin: int) -> None:
    refused = {"error": "ResultSetSizeExceeded"}
    status, answer = (400, refused) if pin >= 4 else (200, [{"_id": str(i)} for i in range(LIMIT)])
    path = f"/appdata/{APP_KEY}/books/b1"
    await assert_untouched(
        "GET", path, client, pin, status=status, answer=answer, harness=_harness()
    )
