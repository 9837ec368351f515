"""Version 1 introduced sessions: login, logout and ``Authorization: Kinvey <token>``."""

from __future__ import annotations

from gateway.kinvey.auth import without_authtoken
from gateway.kinvey.errors import KinveyError
from gateway.versioning import ANY_ROUTE, RequestInfo, ResponseInfo, VersionChange, older


def _uses_session_token(request: RequestInfo) -> bool:
    for value in request.headers.getall("Authorization", ()):
        scheme = value.strip().partition(" ")[0]
        if scheme.lower() == "kinvey":  # not "KinveyMFA": MFA is another change's gate
            return True
    return False


class SessionAuthExists(VersionChange):
    """Session login, logout and session tokens exist.

    Version 1 added ``POST /user/:appKey/login`` (which answers a session token),
    ``POST /user/:appKey/_logout`` and ``Authorization: Kinvey <authtoken>``. A v0 app sends
    ``Basic username:password`` on every call, and its "login" is ``GET /user/:appKey/_me``
    with those credentials. For v0 clients the gateway answers login and logout itself with
    ``400 FeatureUnavailable`` and refuses a session token with ``401 InvalidCredentials``;
    nothing is sent upstream. A v0 signup never answered a session token, so the
    ``_kmd.authtoken`` of a v1..v5 upstream's signup answer is removed. v0 Basic credentials
    pass through unchanged here (on a v6
    upstream the v6 Basic-auth change exchanges them for a session). Newer clients on an older
    upstream: not needed (upstream pins start at 3).
    """

    introduced_in = 1

    @older.request("POST", routes={"user.login", "user.logout"})
    def refuse_login_and_logout(request: RequestInfo) -> None:
        raise KinveyError(
            "FeatureUnavailable",
            debug="Session login and logout do not exist at API version 0; "
            "send Basic user credentials with every request",
        )

    @older.response("POST", routes={"user.collection"})
    @staticmethod
    def signup_answers_no_session_token(response: ResponseInfo) -> None:
        user = response.json
        if isinstance(user, dict):
            stripped = without_authtoken(user)
            if stripped is not user:
                response.json = stripped

    @older.request(routes={ANY_ROUTE}, when=_uses_session_token)
    def refuse_session_tokens(request: RequestInfo) -> None:
        raise KinveyError(
            "InvalidCredentials",
            debug="Session tokens do not exist at API version 0; send Basic user credentials",
        )
