"""UpstreamClient: the one pooled HTTP client to the upstream, and its failure taxonomy.

Two ways out, one contract. Normally requests go through the lean HTTP/1.1 client
(``h1_client``: pooled keep-alive connections, aiohttp's C parser, one write per request),
which profiling showed costs a fraction of aiohttp's ``ClientSession`` per request (see
bench/README.md, "Optimizations"). With ``upstream.use_env_proxy`` the requests go through a
``ClientSession`` instead, which implements HTTP(S)_PROXY / NO_PROXY and CONNECT tunnels.
Either way: a keep-alive pool bounded in total, no redirects followed, no automatic
decompression, no auto-added headers, and every transport failure turned into an
``UpstreamError`` with an ``outcome`` (the metric label) and a status for the client:

    UpstreamError
      outcome=connect_error  502  refused, unreachable, DNS
      outcome=tls_error      502  certificate or handshake failure
      outcome=timeout        504  connect or read timeout
      outcome=pool_timeout   503  no pooled connection came free within upstream.pool_timeout
      outcome=disconnected   502  the upstream closed before answering
      outcome=payload_error  502  a broken body (only seen before our headers are sent)

An idempotent request (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) without a body or with a
buffered one, that fails on a reused keep-alive connection before any byte of the answer
arrived, is retried once on a fresh connection (see ``h1_client`` for nginx's and Go's
rules); nothing else is retried. A client that
stalls while its body is forwarded raises ``ClientTooSlow`` (not an upstream failure).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterable, Callable
from typing import Any, Protocol

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.http.aiohttp_shim import HttpProcessingError, session_connections_in_use
from gateway.http.egress_session import egress_session, session_request
from gateway.http.h1_client import IDEMPOTENT_METHODS, H1Client, RequestFramingError
from gateway.http.h1_pool import ConnectionPool, PoolTimeout, UpstreamConnectError
from gateway.http.streaming import ClientTooSlow

_FAILURES = (TimeoutError, aiohttp.ClientError, ssl.SSLError, HttpProcessingError)


class UpstreamResponse(Protocol):
    """What ``send`` returns (an ``H1Response`` or an ``aiohttp.ClientResponse``)."""

    status: int
    reason: str | None

    @property
    def headers(self) -> CIMultiDictProxy[str]: ...

    @property
    def content(self) -> aiohttp.StreamReader: ...

    def release(self) -> Any: ...


def _nothing() -> None:
    pass


class UpstreamError(Exception):
    def __init__(self, outcome: str, debug: str) -> None:
        super().__init__(debug)
        self.outcome = outcome
        self.debug = debug

    @property
    def status(self) -> int:
        if self.outcome == "pool_timeout":
            return 503  # our own capacity, not the upstream's answer: retry later
        return 504 if self.outcome == "timeout" else 502


def classify(exc: BaseException) -> UpstreamError:
    """Map an aiohttp/asyncio failure to the gateway's outcome and a client-safe message."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | ssl.SSLCertVerificationError):
        return UpstreamError("tls_error", f"upstream TLS certificate rejected: {_reason(exc)}")
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return UpstreamError("tls_error", f"upstream TLS handshake failed: {_reason(exc)}")
    if isinstance(exc, PoolTimeout):
        return UpstreamError("pool_timeout", str(exc))
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return UpstreamError("timeout", "timed out connecting to the upstream")
    if isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError | TimeoutError):
        return UpstreamError("timeout", "timed out waiting for the upstream to answer")
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return UpstreamError("connect_error", "could not connect to the egress proxy")
    if isinstance(exc, aiohttp.ClientConnectorError | UpstreamConnectError):
        return UpstreamError("connect_error", "could not connect to the upstream")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return UpstreamError("disconnected", "the upstream closed the connection without answering")
    if isinstance(exc, RequestFramingError):
        return UpstreamError("payload_error", "the request body did not match its length")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return UpstreamError("payload_error", "the upstream sent an incomplete or broken body")
    if isinstance(exc, aiohttp.ClientResponseError | HttpProcessingError):
        return UpstreamError("disconnected", "the upstream sent an invalid HTTP response")
    return UpstreamError("disconnected", "the upstream connection failed")


def _reason(exc: BaseException) -> str:
    cert_error = getattr(exc, "certificate_error", None)
    inner = cert_error if cert_error is not None else getattr(exc, "os_error", exc)
    text = getattr(inner, "verify_message", None) or getattr(inner, "reason", None) or str(inner)
    return " ".join(str(text).split())[:200]


class UpstreamClient:
    def __init__(
        self,
        *,
        pool_size: int,
        pool_timeout: float = 5.0,
        connect_timeout: float,
        read_timeout: float,
        keepalive_timeout: float,
        ssl_context: ssl.SSLContext | bool = True,
        trust_env: bool = False,
        on_connection_opened: Callable[[], None] = _nothing,
        on_connection_reused: Callable[[], None] = _nothing,
    ) -> None:
        self._pool_size = pool_size
        self._pool_timeout = pool_timeout
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._keepalive_timeout = keepalive_timeout
        self._ssl = _as_context(ssl_context)
        self._trust_env = trust_env
        self._counters = (on_connection_opened, on_connection_reused)
        self._pool: ConnectionPool | None = None
        self._lean: H1Client | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        opened, reused = self._counters
        if self._trust_env:
            self._session = egress_session(
                pool_size=self._pool_size,
                pool_timeout=self._pool_timeout,
                connect_timeout=self._connect_timeout,
                read_timeout=self._read_timeout,
                keepalive_timeout=self._keepalive_timeout,
                ssl_context=self._ssl,
                on_opened=opened,
                on_reused=reused,
            )
            return
        self._pool = ConnectionPool(
            limit=self._pool_size,
            pool_timeout=self._pool_timeout,
            connect_timeout=self._connect_timeout,
            read_timeout=self._read_timeout,
            keepalive_timeout=self._keepalive_timeout,
            ssl_context=self._ssl,
            on_opened=opened,
            on_reused=reused,
        )
        self._lean = H1Client(self._pool)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = self._lean = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def connections_in_use(self) -> int:
        """Upstream connections handed out and not yet released (a leak shows here)."""
        if self._pool is not None:
            return self._pool.in_use
        if self._session is not None:
            return session_connections_in_use(self._session)
        return 0

    async def send(
        self,
        base_url: str,
        method: str,
        raw_path: str,
        headers: CIMultiDict[str],
        body: bytes | AsyncIterable[bytes] | aiohttp.StreamReader | None,
    ) -> UpstreamResponse:
        """Open the upstream response (headers read, body not); the caller releases it."""
        retryable = method in IDEMPOTENT_METHODS and (not body or isinstance(body, bytes))
        try:
            if self._lean is not None:
                return await self._lean.request(
                    base_url, method, raw_path, headers, body, retry_stale=retryable
                )
            assert self._session is not None, "UpstreamClient.start() was not awaited"
            return await session_request(
                self._session, base_url, method, raw_path, headers, body, retry_stale=retryable
            )
        except _FAILURES as exc:
            raise _failure(exc) from None


def _as_context(setting: ssl.SSLContext | bool) -> ssl.SSLContext:
    if isinstance(setting, ssl.SSLContext):
        return setting
    context = ssl.create_default_context()
    if not setting:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _failure(exc: BaseException) -> Exception:
    if isinstance(exc.__cause__, ClientTooSlow):
        return exc.__cause__  # the client stalled while we forwarded its body, not the upstream
    return classify(exc)
