"""Version 4 answers ``OAuthTokenRefreshError`` with 401 instead of 500."""

from __future__ import annotations

from typing import Any

from gateway.kinvey.errors import is_error_body
from gateway.versioning import ANY_ROUTE, ResponseInfo, VersionChange, newer, older

ERROR_NAME = "OAuthTokenRefreshError"


class OAuthRefreshErrorIs401(VersionChange):
    """``OAuthTokenRefreshError`` is a 401.

    When the social or MIC identity token behind a session cannot be refreshed, Kinvey
    answers ``OAuthTokenRefreshError``: with status 500 up to version 3, with 401 from version
    4; the body is the same. For clients at 3 or below the gateway turns that 401 into a 500;
    for clients at 4 or above on a v3 upstream it turns the 500 into a 401. The body's bytes
    are kept.
    """

    introduced_in = 4

    @older.response(routes={ANY_ROUTE}, statuses={401})
    @staticmethod
    def back_to_500(response: ResponseInfo) -> None:
        if _is_refresh_error(response.json):
            response.status = 500

    @newer.response(routes={ANY_ROUTE}, statuses={500})
    @staticmethod
    def forward_to_401(response: ResponseInfo) -> None:
        if _is_refresh_error(response.json):
            response.status = 401


def _is_refresh_error(body: Any) -> bool:
    return is_error_body(body) and body["error"] == ERROR_NAME
