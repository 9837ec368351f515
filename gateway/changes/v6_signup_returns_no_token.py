"""v6: signup no longer logs the new user in."""

from __future__ import annotations

import logging
from typing import Any

from gateway.changes.upstream_login import login_upstream, password_login
from gateway.kinvey.auth import AuthExchanges, LoginAnswer, with_authtoken, without_authtoken
from gateway.kinvey.json_body import BodyDecodeError
from gateway.versioning import Next, RequestInfo, ResponseInfo, VersionChange, newer, older

log = logging.getLogger("gateway.changes.signup")

# v0 had no sessions: its signup answered the user without a token, as v6 does.
FIRST_VERSION_WITH_SIGNUP_TOKEN = 1


class SignupReturnsNoAuthToken(VersionChange):
    """Signup returns the user without a session token

    From v6, `POST /user/:appKey` answers `201` with the new user but without
    `_kmd.authtoken`: the app must log in next. An empty body creates an implicit user whose
    generated password the answer shows once. For v1 to v5 clients (whose SDKs need the token) the
    gateway logs the new user in upstream right after a successful signup, with the submitted or
    generated credentials and the signup request's own app credentials, and puts the session
    token in `_kmd.authtoken` (a social sign-up, with `_socialIdentity` and no password, logs in
    with the same `_socialIdentity`); when that login fails or the account requires MFA the
    client still gets its 201 user, without a token. v0 had no sessions and gets the answer as it
    is. A v6 client on an older upstream gets the signup answer without `_kmd.authtoken`.
    """

    introduced_in = 6

    @older.around("POST", routes={"user.collection"}, reads_body=True)
    async def log_in_after_signup(request: RequestInfo, call_next: Next) -> ResponseInfo:
        response = await call_next(request)
        if (
            request.route.name == "user.collection"  # not a side call of an outer change
            and request.client_version >= FIRST_VERSION_WITH_SIGNUP_TOKEN
            and response.status == 201
        ):
            await _add_session_token(request, call_next, response)
        return response

    @newer.response("POST", routes={"user.collection"})
    @staticmethod
    def drop_signup_token(response: ResponseInfo) -> None:
        user = response.json
        bare = without_authtoken(user) if isinstance(user, dict) else user
        if bare is not user:
            response.json = bare


async def _add_session_token(request: RequestInfo, call_next: Next, response: ResponseInfo) -> None:
    await response.load()
    try:
        user = response.json
    except BodyDecodeError:
        return
    credentials = _credentials(request, user)
    if credentials is None:
        _record(request, "error", "the signup answer has no credentials to log in with")
        return
    login = await login_upstream(
        request, call_next, credentials, request.headers.get("Authorization", "")
    )
    _record(request, login.result, _reason(login))
    if login.result == "ok" and login.token:
        response.json = with_authtoken(user, login.token)


def _credentials(request: RequestInfo, user: Any) -> dict[str, Any] | None:
    """The login body: the submitted username and password, else generated ones (implicit
    user), else the submitted ``_socialIdentity`` (a social sign-up has no password)."""
    if not isinstance(user, dict):
        return None
    try:
        submitted = request.json
    except BodyDecodeError:
        submitted = None
    if not isinstance(submitted, dict):
        submitted = {}
    username = submitted.get("username") or user.get("username")
    password = submitted.get("password") or user.get("password")
    if isinstance(username, str) and isinstance(password, str) and username and password:
        return password_login(username, password)
    identity = submitted.get("_socialIdentity")
    if isinstance(identity, dict) and identity:
        return {"_socialIdentity": identity}
    return None


def _record(request: RequestInfo, result: str, reason: str) -> None:
    request.context.service(AuthExchanges).record("login_after_signup", result, "none")
    level = logging.INFO if result == "ok" else logging.WARNING
    log.log(level, "login after signup: %s%s", result, f" ({reason})" if reason else "")


def _reason(login: LoginAnswer) -> str:
    if login.result == "ok":
        return ""
    if login.result == "mfa_required":
        return "the account requires multi-factor authentication; the user gets no token"
    return f"the upstream answered {login.status}; the user gets no token"
