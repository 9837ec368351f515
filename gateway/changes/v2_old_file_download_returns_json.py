"""Version 2 download-loc answers ``200 {"URI": ...}`` instead of redirecting."""

from __future__ import annotations

from gateway.kinvey.errors import KinveyError
from gateway.versioning import ResponseInfo, VersionChange, older


class OldFileDownloadReturnsJson(VersionChange):
    """The old file API's download returns JSON instead of a redirect.

    ``GET /blob/:appKey/download-loc/:name`` answered v0/v1 with ``302`` and the storage URL
    in ``Location``; from version 2 it answers ``200 {"URI": <storage URL>}``. For v0/v1
    clients the gateway turns that answer back into a ``302`` whose ``Location`` is the URI
    exactly as the upstream wrote it (signed storage URLs must survive byte for byte, so
    nothing is re-quoted), for a ``HEAD`` as for a ``GET``. Newer clients on an older upstream:
    not needed (upstream pins start at 3).
    """

    introduced_in = 2

    @older.response("GET", "HEAD", routes={"blob.download_loc"}, statuses={200})
    @staticmethod
    def redirect_to_the_uri(response: ResponseInfo) -> None:
        body = response.json
        uri = body.get("URI") if isinstance(body, dict) else None
        if not isinstance(uri, str) or not uri:
            raise KinveyError(
                "KinveyInternalErrorRetry",
                status=502,
                debug="the upstream's download-loc answer has no URI to redirect to",
            )
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in uri):
            # A header cannot carry it; refusing beats a broken response or header injection.
            raise KinveyError(
                "KinveyInternalErrorRetry",
                status=502,
                debug="the upstream's download URI has control characters",
            )
        response.empty(302)
        response.headers["Location"] = uri
