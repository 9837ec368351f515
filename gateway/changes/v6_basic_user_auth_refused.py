"""v6: Basic authentication with user credentials is refused."""

from __future__ import annotations

import copy

from gateway.changes.upstream_login import answer_from, login_upstream, password_login
from gateway.kinvey.auth import (
    AuthExchanges,
    BasicCredentials,
    LoginAnswer,
    basic_header,
    user_basic,
    without_authtoken,
)
from gateway.kinvey.errors import KinveyError
from gateway.kinvey.json_body import BodyDecodeError
from gateway.kinvey.session_cache import SessionKey, TokenCache
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
    per credential pair under a keyed hash (never the password), bounded in size and age
    (`auth.token_cache_ttl_seconds`), dropped on any 401 from the upstream (the login retried
    once when the session itself was refused), and every session of a user is dropped when
    that user is saved (`PUT /user/:appKey/:id`, e.g. a password change) through the gateway
    by any client version. Wrong credentials get the login's `401 InvalidCredentials`. A v6
    client on an older upstream gets `401 InvalidCredentials` for user Basic auth, as v6
    answers. An app's own Basic credentials (an app key with its app or master secret) are
    never taken for a user's, also on a path that names another or an unknown app: the
    upstream's answer (`404 AppNotFound`, a disabled app, a wrong secret) reaches the client.
    """

    introduced_in = 6

    @older.around("PUT", routes={"user.entity"})
    async def end_cached_sessions_of_a_saved_user(
        request: RequestInfo, call_next: Next
    ) -> ResponseInfo:
        response = await call_next(request)
        # The old password (or name) must stop working through the gateway at once, whatever
        # credentials changed it, even if the upstream keeps the sessions it was exchanged for.
        if 200 <= response.status < 300:
            route = request.route
            request.context.service(TokenCache).end_sessions(
                route.app_key or "", route.entity_id or ""
            )
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


def _cache_key(
    cache: TokenCache, request: RequestInfo, credentials: BasicCredentials
) -> SessionKey:
    return cache.key(request.route.app_key or "", credentials.username, credentials.password)


async def _serve_with_session(
    request: RequestInfo, call_next: Next, credentials: BasicCredentials
) -> ResponseInfo:
    exchanges = request.context.service(AuthExchanges)
    app = request.context.app
    secret = app.app_secret if app is not None else None
    if not secret:
        exchanges.record("basic_to_session", "no_app_secret", "none")
        raise KinveyError("InvalidCredentials", debug=NO_APP_SECRET)
    cache = request.context.service(TokenCache)
    key = _cache_key(cache, request, credentials)
    app_authorization = basic_header(request.route.app_key or "", secret)

    async def login() -> LoginAnswer:
        login = password_login(credentials.username, credentials.password)
        return await login_upstream(request, call_next, login, app_authorization)

    async def obtain() -> LoginAnswer:
        answer, without_login = await cache.obtain(key, login)
        exchanges.record("basic_to_session", answer.result, "hit" if without_login else "miss")
        return answer

    answer = await obtain()
    if answer.token is None:
        return answer_from(answer)
    token = answer.token
    response = await call_next(_with_session(request, token))
    if response.status == 401:
        # Any 401 for a call made with a cached session drops it: the next call logs in again.
        cache.forget(key, token)
        if not _replayable(request) or not await _session_refused(response):
            # A streamed upload was consumed by the first attempt: the client gets this 401 and
            # its own retry gets a fresh session. InsufficientCredentials is about this call.
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
