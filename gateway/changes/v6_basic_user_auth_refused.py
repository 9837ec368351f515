"""v6: Basic authentication with user credentials is refused."""

from __future__ import annotations

import copy

from gateway.changes.upstream_login import answer_from, login_upstream, password_login
from gateway.http.jsonbody import BodyDecodeError
from gateway.kinvey.auth import (
    BasicCredentials,
    LoginAnswer,
    TokenCache,
    basic_header,
    user_basic,
    without_authtoken,
)
from gateway.kinvey.errors import KinveyError
from gateway.versioning import (
    ANY_ROUTE,
    Next,
    RequestInfo,
    ResponseInfo,
    VersionChange,
    newer,
    older,
)

NO_APP_SECRET = (
    "the gateway has no app secret for this app, so it cannot log this user in "
    "(configure KINVEY_GATEWAY_APP_SECRET_<appKey>)"
)
# Routes that answer the user document; an exchanged session's token must not leak into it.
_USER_DOCUMENT_ROUTES = frozenset({"user.me", "user.entity"})


def _user_credentials(request: RequestInfo) -> BasicCredentials | None:
    apps = request.context.settings.apps
    return user_basic(request.headers.get("Authorization"), request.route.app_key, apps)


def _sets_password(request: RequestInfo) -> bool:
    try:
        body = request.json
    except BodyDecodeError:
        return False
    return isinstance(body, dict) and "password" in body


async def _changed_username(request: RequestInfo, response: ResponseInfo) -> str | None:
    """Whose password changed: the saved user's name, else the request's, else its Basic user."""
    try:
        await response.load()
        saved = response.json
    except (KinveyError, BodyDecodeError):
        saved = None
    for document in (saved, request.json):
        if isinstance(document, dict) and isinstance(document.get("username"), str):
            return str(document["username"])
    credentials = _user_credentials(request)
    return credentials.username if credentials else None


def _has_user_basic(request: RequestInfo) -> bool:
    """Not app/master secret Basic, a session, or no credentials: an end user's password."""
    return _user_credentials(request) is not None


class BasicUserAuthRefused(VersionChange):
    """Basic authentication with user credentials is refused

    From v6, `Authorization: Basic base64(username:password)` with an end user's credentials
    gets `401`; only app key + app secret or master secret still work as Basic, and users log
    in for a session token. For older clients (v0 apps use Basic on every call, and their
    "login" is `GET /user/:appKey/_me`) the gateway logs the user in upstream once, with the app
    secret from its config, and sends `Authorization: Kinvey <token>` instead. Tokens are cached
    per credential pair under a keyed hash (never the password), bounded in size and age,
    dropped on a 401 from the upstream and the login retried once. Wrong credentials get the
    login's `401 InvalidCredentials`. A v6 client on an older upstream gets `401
    InvalidCredentials` for user Basic auth, as v6 answers. An app's own Basic credentials (an
    app key with its app or master secret) are never taken for a user's, also on a path that
    names another or an unknown app: the upstream's answer (`404 AppNotFound`, a disabled app,
    a wrong secret) reaches the client.
    """

    introduced_in = 6

    @older.around("PUT", routes={"user.entity"}, reads_body=True, when=_sets_password)
    async def forget_sessions_after_password_change(
        request: RequestInfo, call_next: Next
    ) -> ResponseInfo:
        response = await call_next(request)
        if 200 <= response.status < 300:
            # The old password must stop working through the gateway at once, whatever
            # credentials changed it, even if the upstream keeps the sessions it was exchanged for.
            username = await _changed_username(request, response)
            if username:
                cache = request.context.service(TokenCache)
                cache.discard_user(request.route.app_key or "", username)
        return response

    @older.around(routes={ANY_ROUTE}, when=_has_user_basic)
    async def exchange_user_basic_for_session(
        request: RequestInfo, call_next: Next
    ) -> ResponseInfo:
        credentials = _user_credentials(request)
        assert credentials is not None  # guaranteed by `when`
        return await _serve_with_session(request, call_next, credentials)

    @newer.request(routes={ANY_ROUTE}, when=_has_user_basic)
    def refuse_user_basic(request: RequestInfo) -> None:
        raise KinveyError(
            "InvalidCredentials",
            debug="Basic authentication with user credentials is not accepted at API "
            "version 6; log in and use the session token",
        )


def _cache_key(cache: TokenCache, request: RequestInfo, credentials: BasicCredentials) -> bytes:
    return cache.key(request.route.app_key or "", credentials.username, credentials.password)


async def _serve_with_session(
    request: RequestInfo, call_next: Next, credentials: BasicCredentials
) -> ResponseInfo:
    metrics = request.context.metrics
    app = request.context.app
    secret = app.app_secret if app is not None else None
    if not secret:
        metrics.auth_exchange("basic_to_session", "no_app_secret", "none")
        raise KinveyError("InvalidCredentials", debug=NO_APP_SECRET)
    cache = request.context.service(TokenCache)
    key = _cache_key(cache, request, credentials)
    app_authorization = basic_header(request.route.app_key or "", secret)

    async def login() -> LoginAnswer:
        login = password_login(credentials.username, credentials.password)
        return await login_upstream(request, call_next, login, app_authorization)

    async def obtain() -> LoginAnswer:
        answer, without_login = await cache.obtain(key, login)
        metrics.auth_exchange("basic_to_session", answer.result, "hit" if without_login else "miss")
        return answer

    answer = await obtain()
    if answer.token is None:
        return answer_from(answer)
    token = answer.token
    response = await call_next(_with_session(request, token))
    if response.status == 401 and await _session_refused(response):
        cache.forget(key, token)
        if not _replayable(request):
            # A streamed upload was consumed by the first attempt: the client gets this 401 and
            # its own retry gets a fresh session (the refused token is gone from the cache).
            return response
        answer = await obtain()
        if answer.token is None:
            return answer_from(answer)
        token = answer.token
        response = await call_next(_with_session(request, token))
    return await _without_session_token(request, response, token)


def _with_session(request: RequestInfo, token: str) -> RequestInfo:
    """A copy of the request carrying the session; the client's own request stays as it was."""
    exchanged = copy.copy(request)
    exchanged.headers = request.headers.copy()
    exchanged.headers["Authorization"] = f"Kinvey {token}"
    return exchanged


def _replayable(request: RequestInfo) -> bool:
    return request.body is not None or request.stream is None


async def _session_refused(response: ResponseInfo) -> bool:
    """A 401 about the session itself (not InsufficientCredentials for this one call)."""
    try:
        await response.load()
        body = response.json
    except (KinveyError, BodyDecodeError):
        return True
    return not isinstance(body, dict) or body.get("error") == "InvalidCredentials"


async def _without_session_token(
    request: RequestInfo, response: ResponseInfo, token: str
) -> ResponseInfo:
    # A Basic client never had a session: the user document it gets back must not carry the
    # gateway's token (its Basic "login" at v0 is GET /user/:appKey/_me).
    if request.route.name not in _USER_DOCUMENT_ROUTES or not 200 <= response.status < 300:
        return response
    try:
        await response.load()
        user = response.json
    except BodyDecodeError:
        return response
    kmd = user.get("_kmd") if isinstance(user, dict) else None
    if isinstance(kmd, dict) and kmd.get("authtoken") == token:
        response.json = without_authtoken(user)
    return response
