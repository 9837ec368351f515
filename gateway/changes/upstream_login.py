"""One upstream login on behalf of a client, shared by the v6 signup and Basic auth changes.

Kinvey's ``POST /user/:appKey/login`` is authorized with the app's own Basic credentials (app
key + app secret) and takes ``{"username", "password"}`` (or a ``_socialIdentity``). A v6
upstream may answer with the wrapped shape ``{"mfaRequired": false, "user", "authToken"}`` or
ask for a second factor (``{"mfaRequired": true, ...}``), which the gateway cannot provide:
that login fails.

Not a version change: ``changes/__init__`` only loads modules named ``v<N>_*``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gateway.kinvey import routes
from gateway.kinvey.auth import (
    LoginAnswer,
    LoginResult,
    requires_mfa,
    session_token_of,
    user_id_of,
)
from gateway.kinvey.errors import KinveyError
from gateway.kinvey.json_body import BodyDecodeError
from gateway.versioning import Next, RequestInfo, ResponseInfo

MFA_NOT_SUPPORTED = (
    "This account requires multi-factor authentication, which this app version does not "
    "support. Please update the app to log in."
)


def login_path(app_key: str) -> str:
    return f"/user/{quote(app_key, safe='')}/login"


def password_login(username: str, password: str) -> dict[str, Any]:
    return {"username": username, "password": password}


async def login_upstream(
    request: RequestInfo, call_next: Next, credentials: dict[str, Any], authorization: str
) -> LoginAnswer:
    """Log a user in upstream through ``call_next``; never raises for upstream answers.

    ``credentials`` is the login body: a username and password, or a ``_socialIdentity``.
    """
    app_key = request.route.app_key or ""
    path = login_path(app_key)
    login = request.derive("POST", path, routes.match(path), body=credentials)
    login.headers["Authorization"] = authorization
    response = await call_next(login)
    try:
        await response.load()
    except KinveyError as broken:  # the login answer broke off or is absurdly large
        return failure("error", ResponseInfo.from_error(broken))
    if response.status == 401:
        return failure("invalid_credentials", response)
    if not 200 <= response.status < 300:
        return failure("error", response)
    try:
        answer = response.json
    except BodyDecodeError:
        answer = None
    if requires_mfa(answer):
        return LoginAnswer("mfa_required")
    token = session_token_of(answer)
    if token is None:
        error = KinveyError(
            "KinveyInternalErrorRetry",
            status=502,
            debug="the upstream login answer carried no session token",
        )
        return failure("error", ResponseInfo.from_error(error))
    return LoginAnswer("ok", token, user_id_of(answer))


def failure(result: LoginResult, response: ResponseInfo) -> LoginAnswer:
    return LoginAnswer(
        result,
        status=response.status,
        headers=tuple(response.headers.items()),
        body=response.body or b"",
    )


def mfa_refusal() -> KinveyError:
    return KinveyError("InvalidCredentials", description=MFA_NOT_SUPPORTED)


def answer_from(login: LoginAnswer) -> ResponseInfo:
    """A fresh response for one client from a failed login (each client rewrites its own)."""
    if login.result == "mfa_required":
        return ResponseInfo.from_error(mfa_refusal())
    response = ResponseInfo(login.status, body=login.body)
    for name, value in login.headers:
        response.headers.add(name, value)
    return response
