"""Version 1 standardized error reporting; v0 clients get ``{"error": <description>}``."""

from __future__ import annotations

from gateway.kinvey.errors import for_v0_client
from gateway.versioning import ANY_ROUTE, ERRORS, ResponseInfo, VersionChange, older


class ErrorsAreStandardized(VersionChange):
    """Errors carry a name, a description and a debug text.

    From version 1 every error body is ``{"error": <Name>, "description": <text>, "debug":
    <text>}``. Before it, an error was ``{"error": <description text>}`` with the same status
    code. The gateway rewrites every error response a v0 client gets (from the upstream, from
    a translation layer, or made by the gateway itself, e.g. 502/504) to that v0 shape;
    bodies that are not Kinvey errors (no JSON, other shapes) and ``APIVersionNotAvailable``
    pass unchanged. Newer clients on an older upstream: not needed (upstream pins start at 3).
    """

    introduced_in = 1

    @older.response(routes={ANY_ROUTE}, statuses=ERRORS)
    @staticmethod
    def flatten_error_body_for_v0(response: ResponseInfo) -> None:
        body = response.json
        flattened = for_v0_client(body)
        if flattened is not body:  # an error already in the v0 shape keeps its bytes
            response.json = flattened
