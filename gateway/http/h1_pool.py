"""Keep-alive upstream connections, per origin, bounded in total across all origins.

Idle connections are reused newest first (warm, least likely to have been closed by the
upstream) and closed after ``keepalive_timeout`` idle seconds. At most ``limit`` connections
are open at once, idle ones included, whatever upstream they go to (per-app upstreams share
the bound): a request that needs a new connection while the pool is full closes an idle
connection to another origin, or else waits for one to come back, at most ``pool_timeout``
seconds (its own timeout, like Envoy's pending-request queue; then ``PoolTimeout``, a 503).
``connect_timeout`` bounds only the TCP and TLS handshake; names and addresses are handled
by ``dialer`` (cached DNS answers, happy eyeballs).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from yarl import URL

from gateway.http.dialer import Dialer
from gateway.http.h1_connection import UpstreamConnection

OriginKey = tuple[str, int, bool]


@dataclass(frozen=True, slots=True)
class Origin:
    host: str  # for connecting (IDNA, no brackets)
    port: int
    tls: bool
    host_header: str  # as sent in Host: bracketed IPv6, default port left out

    @property
    def key(self) -> OriginKey:
        return (self.host, self.port, self.tls)


def parse_origin(base_url: str) -> Origin:
    url = URL(base_url, encoded=True)
    if url.scheme not in ("http", "https") or not url.raw_host or url.port is None:
        raise ValueError(f"not an http(s) URL: {base_url!r}")
    return Origin(url.raw_host, url.port, url.scheme == "https", url.host_port_subcomponent or "")


class UpstreamConnectError(aiohttp.ClientConnectionError):
    """No TCP connection to the upstream: refused, unreachable, name not resolved."""


class PoolTimeout(aiohttp.ClientConnectionError):
    """No pooled connection came free within the pool timeout."""


class ConnectionPool:
    def __init__(
        self,
        *,
        limit: int,
        pool_timeout: float,
        connect_timeout: float,
        read_timeout: float,
        keepalive_timeout: float,
        ssl_context: ssl.SSLContext,
        on_opened: Callable[[], None],
        on_reused: Callable[[], None],
    ) -> None:
        self._limit = limit
        self._pool_timeout = pool_timeout
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._keepalive = keepalive_timeout
        self._ssl = ssl_context
        self._on_opened, self._on_reused = on_opened, on_reused
        self._idle: dict[OriginKey, list[UpstreamConnection]] = {}
        self._open: set[UpstreamConnection] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._sweep_handle: asyncio.TimerHandle | None = None
        self._closed = False
        self._loop = asyncio.get_running_loop()  # kept: each lookup costs a getpid() call
        self._dialer = Dialer(self._loop)
        self.in_use = 0  # handed out and not yet released
        self._connecting = 0

    async def acquire(
        self, origin: Origin, *, fresh: bool = False
    ) -> tuple[UpstreamConnection, bool]:
        """A connection to ``origin`` and whether it was reused; ``fresh`` forces a new one."""
        if not fresh and (idle := self._take_idle(origin.key)) is not None:
            return idle, True
        if not self._has_room():
            try:
                async with asyncio.timeout(self._pool_timeout):
                    while True:
                        await self._wait_for_release()
                        # A connection to our origin came back: reuse it rather than close it.
                        if not fresh and (idle := self._take_idle(origin.key)) is not None:
                            return idle, True
                        if self._has_room():
                            break
            except TimeoutError:
                raise PoolTimeout(
                    f"no upstream connection came free within {self._pool_timeout:g} s "
                    f"(upstream.pool_size {self._limit})"
                ) from None
        self._connecting += 1
        try:
            async with asyncio.timeout(self._connect_timeout):
                conn = await self._connect(origin)
        except BaseException as exc:
            self._connecting -= 1
            if self._waiters:
                self._wake_one()  # the connect failed: its place is free again
            if isinstance(exc, TimeoutError):
                raise aiohttp.ConnectionTimeoutError(
                    "timed out connecting to the upstream"
                ) from None
            raise
        self._connecting -= 1
        self.in_use += 1
        return conn, False

    def _has_room(self) -> bool:
        """Room for one more connection, after closing an idle one to another origin if need be."""
        if len(self._open) + self._connecting < self._limit:
            return True
        oldest: UpstreamConnection | None = None
        for idle in self._idle.values():
            if idle and (oldest is None or idle[0].idle_since < oldest.idle_since):
                oldest = idle[0]
        if oldest is None:
            return False
        self._idle[oldest.key].remove(oldest)
        self._drop(oldest, wake=False)  # its place is ours
        return True

    def release(self, conn: UpstreamConnection, reusable: bool) -> None:
        if reusable and conn.reusable and not self._closed:
            conn.idle_since = self._loop.time()
            self._idle.setdefault(conn.key, []).append(conn)
            if self._sweep_handle is None:
                self._schedule_sweep()
        else:
            self._drop(conn)
        self.in_use -= 1
        if self._waiters and reusable:
            self._wake_one()  # an idle connection to take (or to close for another origin)

    async def close(self) -> None:
        self._closed = True
        if self._sweep_handle is not None:
            self._sweep_handle.cancel()
            self._sweep_handle = None
        for conn in list(self._open):
            self._drop(conn)
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports report connection_lost

    # -- internals ---------------------------------------------------------------------

    def _take_idle(self, key: OriginKey) -> UpstreamConnection | None:
        idle = self._idle.get(key)
        if not idle:
            return None
        cutoff = self._loop.time() - self._keepalive
        while idle:
            conn = idle.pop()
            if conn.idle_since < cutoff:  # newest first: the rest are older still
                for stale in (conn, *idle):
                    self._drop(stale)
                idle.clear()
                return None
            if conn.reusable:
                self.in_use += 1
                self._on_reused()
                return conn
            self._drop(conn)  # the upstream closed it while it sat idle
        return None

    async def _connect(self, origin: Origin) -> UpstreamConnection:
        if self._closed:
            raise aiohttp.ClientConnectionError("the upstream connection pool is closed")
        loop = self._loop
        tls = self._ssl if origin.tls else None
        try:
            sock = await self._dialer.connect(origin.host, origin.port)
            _, conn = await loop.create_connection(
                lambda: UpstreamConnection(loop, origin.key, self._read_timeout),
                sock=sock,
                ssl=tls,
                server_hostname=origin.host if tls else None,
            )
        except ssl.SSLError:
            raise  # certificate or handshake: the caller names the TLS problem
        except OSError as exc:
            raise UpstreamConnectError(f"could not connect to the upstream: {exc}") from exc
        self._open.add(conn)
        self._on_opened()
        return conn

    async def _wait_for_release(self) -> None:
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._wake_one()  # we were woken but leave (timeout): pass the turn on
            raise

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _drop(self, conn: UpstreamConnection, *, wake: bool = True) -> None:
        if conn in self._open:
            self._open.remove(conn)
            if wake and self._waiters:
                self._wake_one()  # its place in the bound is free
        if conn.transport is not None:
            conn.transport.abort()

    def _schedule_sweep(self) -> None:
        delay = min(max(self._keepalive / 2, 0.05), 30.0)
        self._sweep_handle = self._loop.call_later(delay, self._sweep)

    def _sweep(self) -> None:
        """Close connections idle for longer than the keep-alive timeout (or closed upstream)."""
        self._sweep_handle = None
        cutoff = self._loop.time() - self._keepalive
        for key, idle in list(self._idle.items()):
            keep = [c for c in idle if c.idle_since >= cutoff and c.reusable]
            for conn in set(idle).difference(keep):
                self._drop(conn)
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]
        if self._idle:
            self._schedule_sweep()
