"""Basic credentials, Kinvey login answers, and the Basic→session token cache.

API v6 refuses ``Authorization: Basic base64(username:password)`` with user credentials, so
the gateway logs old clients in once and sends their calls with ``Kinvey <token>``. The
tokens live in a :class:`TokenCache` keyed by a keyed hash (HMAC-SHA256 under a random key
made when the process starts) of app key, username and password: the password is never stored,
and a key cannot be recomputed from a leaked cache or log. Entries expire after a TTL and the
least recently used go first when the cache is full. Concurrent logins with the same
credentials share one upstream login (one in-flight task per key).

Everything here except :meth:`TokenCache.obtain` (which awaits a caller's login) is pure.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal

LoginResult = Literal["ok", "invalid_credentials", "mfa_required", "error"]


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    username: str
    password: str = field(repr=False)


def split_authorization(header: str | None) -> tuple[str, str]:
    """``(scheme in lower case, credentials)``; empty strings when there is no header."""
    scheme, _, value = (header or "").strip().partition(" ")
    return scheme.lower(), value.strip()


def parse_basic(header: str | None) -> BasicCredentials | None:
    """The username and password of a Basic header; None when it is not a valid one."""
    scheme, value = split_authorization(header)
    if scheme != "basic" or not value:
        return None
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = text.partition(":")
    if not colon or not username:
        return None
    return BasicCredentials(username, password)


# Kinvey app keys start with this; no end user's username is taken for one (issue 14).
APP_KEY_PREFIX = "kid_"


def is_app_key(name: str, known_app_keys: Collection[str] = ()) -> bool:
    """Whether ``name`` names an app (one the gateway knows, or shaped like a Kinvey app key)."""
    return name.startswith(APP_KEY_PREFIX) or name in known_app_keys


def user_basic(
    header: str | None, app_key: str | None, known_app_keys: Collection[str] = ()
) -> BasicCredentials | None:
    """Basic credentials of an end user: not an app's key with its app or master secret.

    App credentials on a path that names another or an unknown app are still app credentials:
    the upstream answers them (``404 AppNotFound``, a disabled app, a wrong secret), never a
    user login made on the client's behalf.
    """
    if app_key is None:
        return None
    credentials = parse_basic(header)
    if credentials is None or credentials.username == app_key:
        return None
    if is_app_key(credentials.username, known_app_keys):
        return None
    return credentials


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def requires_mfa(login_answer: Any) -> bool:
    """A v6 login answer that asks for a second factor instead of giving a session."""
    return isinstance(login_answer, dict) and login_answer.get("mfaRequired") is True


def session_token_of(login_answer: Any) -> str | None:
    """The session token of a login answer: v6 wrapped (``authToken``) or a bare user."""
    if not isinstance(login_answer, dict):
        return None
    token = login_answer.get("authToken")
    if isinstance(token, str) and token:
        return token
    user = login_answer.get("user", login_answer)
    kmd = user.get("_kmd") if isinstance(user, dict) else None
    token = kmd.get("authtoken") if isinstance(kmd, dict) else None
    return token if isinstance(token, str) and token else None


def with_authtoken(user: dict[str, Any], token: str) -> dict[str, Any]:
    """A copy of a user document whose ``_kmd.authtoken`` is ``token``."""
    kmd = user.get("_kmd")
    return {**user, "_kmd": {**(kmd if isinstance(kmd, dict) else {}), "authtoken": token}}


def without_authtoken(user: dict[str, Any]) -> dict[str, Any]:
    """A copy of a user document without ``_kmd.authtoken`` (the same object if it has none)."""
    kmd = user.get("_kmd")
    if not isinstance(kmd, dict) or "authtoken" not in kmd:
        return user
    return {**user, "_kmd": {k: v for k, v in kmd.items() if k != "authtoken"}}


@dataclass(frozen=True, slots=True)
class LoginAnswer:
    """The outcome of one upstream login, shareable between the requests that waited for it.

    A failure keeps the upstream's answer as bytes (each waiter builds its own response from
    it, since responses are rewritten per client version on their way out).
    """

    result: LoginResult
    token: str | None = field(default=None, repr=False)
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = field(default=b"", repr=False)


Login = Callable[[], Awaitable[LoginAnswer]]


class TokenCache:
    """Session tokens per credential pair: bounded LRU with a TTL, logins coalesced per key."""

    def __init__(
        self,
        max_entries: int,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or ttl_seconds <= 0:
            raise ValueError("a token cache needs at least one entry and a positive TTL")
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._hash_key = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self._in_flight: dict[bytes, asyncio.Task[LoginAnswer]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def _digest(self, *parts: str) -> bytes:
        message = bytearray()
        for part in parts:
            encoded = part.encode("utf-8")
            # Length prefixes: ("ab", "c") and ("a", "bc") must never share a key.
            message += len(encoded).to_bytes(4, "big") + encoded
        return hmac.new(self._hash_key, bytes(message), hashlib.sha256).digest()

    def key(self, app_key: str, username: str, password: str) -> bytes:
        """The user's digest, then the credential pair's: a user's keys share a prefix."""
        return self._digest(app_key, username) + self._digest(app_key, username, password)

    def cached(self, key: bytes) -> str | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        token, expires_at = entry
        if expires_at <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return token

    def store(self, key: bytes, token: str) -> None:
        self._entries[key] = (token, self._clock() + self.ttl_seconds)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, key: bytes, token: str) -> None:
        """Drop a token the upstream refused, unless a newer login has replaced it already."""
        entry = self._entries.get(key)
        if entry is not None and hmac.compare_digest(entry[0], token):
            del self._entries[key]

    def discard_user(self, app_key: str, username: str) -> int:
        """Drop every token of a user (their password changed); returns how many."""
        prefix = self._digest(app_key, username)
        stale = [key for key in self._entries if key.startswith(prefix)]
        for key in stale:
            del self._entries[key]
        return len(stale)

    async def obtain(self, key: bytes, login: Login) -> tuple[LoginAnswer, bool]:
        """A token for ``key``: cached, from a login already running, or from ``login()``.

        Returns the answer and whether it came without a login of this caller's own. The login
        runs as its own task, so a caller cancelled mid-way (its client went away) neither
        cancels the login for the others waiting on it nor loses the token it brings.
        """
        token = self.cached(key)
        if token is not None:
            return LoginAnswer("ok", token), True
        task = self._in_flight.get(key)
        joined = task is not None
        if task is None:
            task = asyncio.ensure_future(self._login(key, login))
            task.add_done_callback(_consume_exception)
            self._in_flight[key] = task
        return await asyncio.shield(task), joined

    async def _login(self, key: bytes, login: Login) -> LoginAnswer:
        try:
            answer = await login()
            if answer.result == "ok" and answer.token:
                self.store(key, answer.token)
            return answer
        finally:
            self._in_flight.pop(key, None)


def _consume_exception(task: asyncio.Task[LoginAnswer]) -> None:
    # A login that failed after every waiter went away must not log "never retrieved".
    if not task.cancelled():
        task.exception()
