"""v4: queries that would return too many entities are refused instead of cut short."""

from __future__ import annotations

import copy
import logging

from gateway.kinvey import routes
from gateway.kinvey.errors import KinveyError
from gateway.kinvey.json_body import BodyDecodeError
from gateway.versioning import Next, RequestInfo, ResponseInfo, VersionChange, newer, older

log = logging.getLogger("gateway.changes.result_set")

_QUERY_ROUTES = frozenset({"appdata.collection", "user.collection"})


class QueriesOverTheResultSetLimitAreRefused(VersionChange):
    """Queries over the result-set limit answer 400 ResultSetSizeExceeded

    From v4, a query that would return more than the result-set limit (10,000 entities, a
    config value) answers `400 ResultSetSizeExceeded`; v3 and below silently return the first
    10,000. For older clients the gateway re-issues such a query with `limit=10000`, keeping
    `skip`, `sort`, `fields` and `query`, and returns that. For a v4+ client on an older
    upstream, a query without a `limit` (or with one above the limit) that comes back with
    exactly the limit's number of entities is checked with `_count` on the same `query`; if
    more than the limit match after `skip`, the client gets the v4 error. A `HEAD` of such a
    query has no entities to go by: for older clients it is sent with the limit up front, for
    v4+ clients on an older upstream `_count` alone decides.
    """

    introduced_in = 4

    @older.around("GET", "HEAD", routes=_QUERY_ROUTES)
    async def cap_oversized_query(request: RequestInfo, call_next: Next) -> ResponseInfo:
        if request.method == "HEAD":
            # A HEAD answer has no body to recognise the error by: cap it up front, which is
            # what an old server counted anyway (no entities travel either way).
            return await call_next(_capped(request) if _may_exceed(request) else request)
        response = await call_next(request)
        if response.status != 400 or not await _is_result_set_error(response):
            return response
        return await call_next(_capped(request))

    @newer.around("GET", "HEAD", routes=_QUERY_ROUTES)
    async def refuse_oversized_query(request: RequestInfo, call_next: Next) -> ResponseInfo:
        limit = _result_set_limit(request)
        if not _may_exceed(request):
            return await call_next(request)
        response = await call_next(request)
        if not 200 <= response.status < 300:
            return response
        # A HEAD answer has no entities to count: its _count decides alone.
        if request.method != "HEAD" and not await _holds_exactly(response, limit):
            return response
        matching = await _count(request, call_next)
        skip = _whole_number(request.query("skip")) or 0
        if matching is not None and matching - skip > limit:
            raise result_set_exceeded(limit, matching)
        return response


def result_set_exceeded(limit: int, matching: int | None = None) -> KinveyError:
    found = f"{matching} entities match" if matching is not None else "too many entities match"
    return KinveyError(
        "ResultSetSizeExceeded",
        description=f"Your query produced more than {limit:,} results. Please rewrite your "
        "query to be more selective.",
        debug=f"{found}; add a limit of at most {limit} or a more selective query",
    )


def _result_set_limit(request: RequestInfo) -> int:
    return request.context.settings.result_set_limit


def _may_exceed(request: RequestInfo) -> bool:
    """No ``limit``, or one above the result-set limit (one that is not a number: the
    upstream judges it)."""
    requested = _whole_number(request.query("limit"))
    return requested is not None and not 0 < requested <= _result_set_limit(request)


def _capped(request: RequestInfo) -> RequestInfo:
    capped = copy.copy(request)
    capped.headers = request.headers.copy()
    capped.set_query("limit", str(_result_set_limit(request)))
    return capped


def _whole_number(text: str | None) -> int | None:
    """A query parameter as a whole number; absent or empty is 0 (Mongo: no limit)."""
    if text is None or not text.strip():
        return 0
    return int(text) if text.strip().isdigit() else None


async def _is_result_set_error(response: ResponseInfo) -> bool:
    try:
        await response.load()
        body = response.json
    except (KinveyError, BodyDecodeError):
        return False
    return isinstance(body, dict) and body.get("error") == "ResultSetSizeExceeded"


async def _holds_exactly(response: ResponseInfo, limit: int) -> bool:
    await response.load()
    try:
        entities = response.json
    except BodyDecodeError:
        return False
    return isinstance(entities, list) and len(entities) == limit


async def _count(request: RequestInfo, call_next: Next) -> int | None:
    """How many entities match the request's ``query`` (None when the upstream won't say)."""
    path = request.path.rstrip("/") + "/_count"
    kept = [p for p in request.query_string.split("&") if p.partition("=")[0] == "query"]
    raw_path = path + ("?" + kept[0] if kept else "")
    response = await call_next(request.derive("GET", raw_path, routes.match(raw_path)))
    count = None
    if 200 <= response.status < 300:
        try:
            await response.load()
            answer = response.json
        except (KinveyError, BodyDecodeError):
            answer = None
        count = answer.get("count") if isinstance(answer, dict) else None
    if not isinstance(count, int) or isinstance(count, bool):
        log.warning("result-set check: the upstream answered _count with %s", response.status)
        return None
    return count
