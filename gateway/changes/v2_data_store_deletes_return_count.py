"""Version 2 data store deletes answer ``200 {"count": n}`` instead of an empty ``204``."""

from __future__ import annotations

from gateway.versioning import ResponseInfo, VersionChange, older


class DataStoreDeletesReturnCount(VersionChange):
    """Data store deletes return a count.

    From version 2, ``DELETE /appdata/:appKey/:collection/:id`` and ``DELETE
    /appdata/:appKey/:collection?query=...`` answer ``200 {"count": n}``; v0/v1 answered ``204``
    with no body (old iOS SDKs treat anything else as a failure). For v0/v1 clients the gateway
    turns that answer into a ``204`` with no body and no Content-Type; other answers (errors, a
    200 that is not a count) pass unchanged. Newer clients on an older upstream: not needed
    (upstream pins start at 3).
    """

    introduced_in = 2

    @older.response("DELETE", routes={"appdata.entity", "appdata.collection"}, statuses={200})
    @staticmethod
    def drop_the_count(response: ResponseInfo) -> None:
        body = response.json
        if isinstance(body, dict) and set(body) == {"count"}:
            response.empty(204)
