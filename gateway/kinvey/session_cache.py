"""The Basic→session token cache: which session a credential pair has, and whose it is.

Keys are a keyed hash (HMAC-SHA256 under a random key made when the process starts) of app
key, username and password: the password is never stored, and a key cannot be recomputed from
a leaked cache or log. Each entry remembers the user id its login answered with, so
:meth:`TokenCache.end_sessions` drops every session of a user whatever name or password it was
made with (a renamed user; a password changed by any client version). Entries expire after a
TTL, which bounds how long a password changed elsewhere (or through another replica) keeps
working, and the least recently used go first when the cache is full. Concurrent logins with
the same credentials share one upstream login.

Races with a password change: a login already running when its user's sessions end may bring
a session made with the old password. Every ``end_sessions`` advances an *epoch*; a login
remembers the epoch it started in and each ended user the epoch they were ended in, and a
login that started before its user was ended hands its session to the callers already waiting
for it but is never cached, nor joined by callers that arrive after the change. The record of
ended users is bounded: when it overflows, logins that started before the forgotten record are
treated as ended too (at worst one needless login, never a resurrected session).

Everything here except :meth:`TokenCache.obtain` (which awaits a caller's login) is pure.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from gateway.kinvey.auth import LoginAnswer
from gateway.kinvey.routes import RouteMatch

Login = Callable[[], Awaitable[LoginAnswer]]
Owner = tuple[str, str]  # (app key, user id)


@dataclass(frozen=True, slots=True)
class SessionKey:
    """Where a credential pair's session is cached: its app and a keyed hash of the pair."""

    app_key: str
    digest: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class _Entry:
    token: str = field(repr=False)
    owner: Owner
    expires_at: float


@dataclass(frozen=True, slots=True)
class _Flight:
    task: asyncio.Task[LoginAnswer]
    epoch: int


class TokenCache:
    """Sessions per credential pair, ended per user: bounded LRU with a TTL, logins coalesced."""

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
        self._entries: OrderedDict[SessionKey, _Entry] = OrderedDict()
        self._keys_of: dict[Owner, set[SessionKey]] = {}
        self._in_flight: dict[SessionKey, _Flight] = {}
        self._epoch = 0
        self._ended: OrderedDict[Owner, int] = OrderedDict()
        self._forgotten_before = 0  # logins started before this epoch may have lost their record

    def __len__(self) -> int:
        return len(self._entries)

    def key(self, app_key: str, username: str, password: str) -> SessionKey:
        message = bytearray()
        for part in (app_key, username, password):
            encoded = part.encode("utf-8")
            # Length prefixes: ("ab", "c") and ("a", "bc") must never share a key.
            message += len(encoded).to_bytes(4, "big") + encoded
        return SessionKey(app_key, hmac.new(self._hash_key, message, hashlib.sha256).digest())

    def cached(self, key: SessionKey) -> str | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self._clock():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return entry.token

    def store(self, key: SessionKey, token: str, user_id: str) -> None:
        if key in self._entries:
            self._remove(key)
        owner = (key.app_key, user_id)
        self._entries[key] = _Entry(token, owner, self._clock() + self.ttl_seconds)
        self._keys_of.setdefault(owner, set()).add(key)
        while len(self._entries) > self.max_entries:
            self._remove(next(iter(self._entries)))

    def forget(self, key: SessionKey, token: str) -> None:
        """Drop a token the upstream refused, unless a newer login has replaced it already."""
        entry = self._entries.get(key)
        if entry is not None and hmac.compare_digest(entry.token, token):
            self._remove(key)

    def end_sessions(self, app_key: str, user_id: str) -> int:
        """Drop every session of a user, and keep logins already running from caching one."""
        owner = (app_key, user_id)
        self._epoch += 1
        self._ended[owner] = self._epoch
        self._ended.move_to_end(owner)
        while len(self._ended) > self.max_entries:
            _, epoch = self._ended.popitem(last=False)
            self._forgotten_before = max(self._forgotten_before, epoch)
        stale = self._keys_of.get(owner, set()).copy()
        for key in stale:
            self._remove(key)
        return len(stale)

    async def obtain(self, key: SessionKey, login: Login) -> tuple[LoginAnswer, bool]:
        """A token for ``key``: cached, from a login already running, or from ``login()``.

        Returns the answer and whether it came without a login of this caller's own. The login
        runs as its own task, so a caller cancelled mid-way (its client went away) neither
        cancels the login for the others waiting on it nor loses the token it brings.
        """
        token = self.cached(key)
        if token is not None:
            return LoginAnswer("ok", token), True
        flight = self._in_flight.get(key)
        # A login that started before some user's sessions ended may be for that user.
        joined = flight is not None and flight.epoch == self._epoch
        if flight is None or not joined:
            task = asyncio.ensure_future(self._login(key, login, self._epoch))
            task.add_done_callback(_consume_exception)
            flight = self._in_flight[key] = _Flight(task, self._epoch)
        return await asyncio.shield(flight.task), joined

    async def _login(self, key: SessionKey, login: Login, started: int) -> LoginAnswer:
        try:
            answer = await login()
            token, user_id = answer.token, answer.user_id
            if token and user_id and self._live_since((key.app_key, user_id), started):
                self.store(key, token, user_id)
            return answer
        finally:
            flight = self._in_flight.get(key)
            if flight is not None and flight.task is asyncio.current_task():
                del self._in_flight[key]

    def _live_since(self, owner: Owner, epoch: int) -> bool:
        """Whether ``owner``'s sessions have certainly not been ended since ``epoch``."""
        ended = self._ended.get(owner)
        return ended <= epoch if ended is not None else epoch >= self._forgotten_before

    def _remove(self, key: SessionKey) -> None:
        entry = self._entries.pop(key)
        keys = self._keys_of.get(entry.owner)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys_of[entry.owner]


def end_sessions_after_user_save(
    cache: TokenCache, method: str, route: RouteMatch, status: int
) -> None:
    """A saved user (``PUT /user/:appKey/:id`` answered 2xx) loses every cached session.

    Its password or name may have changed, whichever client version saved it; the body is not
    read to find out (a v6 app's save is passed through unparsed), so any save costs that user
    at most one new login.
    """
    if method == "PUT" and route.name == "user.entity" and 200 <= status < 300:
        cache.end_sessions(route.app_key or "", route.entity_id or "")


def _consume_exception(task: asyncio.Task[LoginAnswer]) -> None:
    # A login that failed after every waiter went away must not log "never retrieved".
    if not task.cancelled():
        task.exception()
