"""UpstreamClient: the one pooled HTTP client to the upstream, and its failure taxonomy.

Owns an aiohttp ``ClientSession`` (keep-alive pool bounded in total, no redirects followed, no
automatic decompression, no auto-added headers) and turns every transport failure into an
``UpstreamError`` with an ``outcome`` (the metric label) and a status for the client:

    UpstreamError
      outcome=connect_error  502  refused, unreachable, DNS
      outcome=tls_error      502  certificate or handshake failure
      outcome=timeout        504  connect or read timeout
      outcome=disconnected   502  the upstream closed before answering
      outcome=payload_error  502  a broken body (only seen before our headers are sent)

GET and HEAD requests without a body that fail because a pooled keep-alive connection was
closed under us are retried once on a fresh connection; nothing else is retried.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterable, Sequence
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from gateway.http.streaming import ClientTooSlow

_SKIP_AUTO_HEADERS = ("Accept-Encoding", "User-Agent", "Content-Type")
_RETRYABLE_METHODS = frozenset({"GET", "HEAD"})


class UpstreamError(Exception):
    def __init__(self, outcome: str, debug: str) -> None:
        super().__init__(debug)
        self.outcome = outcome
        self.debug = debug

    @property
    def status(self) -> int:
        return 504 if self.outcome == "timeout" else 502


def classify(exc: BaseException) -> UpstreamError:
    """Map an aiohttp/asyncio failure to the gateway's outcome and a client-safe message."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return UpstreamError("tls_error", f"upstream TLS certificate rejected: {_reason(exc)}")
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return UpstreamError("tls_error", f"upstream TLS handshake failed: {_reason(exc)}")
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return UpstreamError("timeout", "timed out connecting to the upstream")
    if isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError | TimeoutError):
        return UpstreamError("timeout", "timed out waiting for the upstream to answer")
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return UpstreamError("connect_error", "could not connect to the egress proxy")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamError("connect_error", "could not connect to the upstream")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return UpstreamError("disconnected", "the upstream closed the connection without answering")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return UpstreamError("payload_error", "the upstream sent an incomplete or broken body")
    if isinstance(exc, aiohttp.ClientResponseError):
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
        connect_timeout: float,
        read_timeout: float,
        keepalive_timeout: float,
        ssl_context: ssl.SSLContext | bool = True,
        trust_env: bool = False,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
    ) -> None:
        self._connector_args: dict[str, Any] = {
            "limit": pool_size,
            "limit_per_host": 0,
            "keepalive_timeout": keepalive_timeout,
            "ttl_dns_cache": 10,
            "ssl": ssl_context,
        }
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        self._trust_env = trust_env
        self._trace_configs = list(trace_configs)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(**self._connector_args),
            timeout=self._timeout,
            auto_decompress=False,
            trust_env=self._trust_env,
            trace_configs=self._trace_configs,
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        base_url: str,
        method: str,
        raw_path: str,
        headers: CIMultiDict[str],
        body: bytes | AsyncIterable[bytes] | Any | None,
    ) -> aiohttp.ClientResponse:
        """Open the upstream response (headers read, body not); the caller releases it."""
        assert self._session is not None, "UpstreamClient.start() was not awaited"
        url = URL(base_url + raw_path, encoded=True)
        retryable = method in _RETRYABLE_METHODS and not body
        for attempt in (1, 2):
            try:
                return await self._session.request(
                    method,
                    url,
                    headers=headers,
                    data=body if body else None,
                    allow_redirects=False,
                )
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                if not retryable or attempt == 2 or isinstance(exc, aiohttp.ClientConnectorError):
                    raise _failure(exc) from None
            except (TimeoutError, aiohttp.ClientError, ssl.SSLError) as exc:
                raise _failure(exc) from None
        raise AssertionError("unreachable")


def _failure(exc: BaseException) -> Exception:
    if isinstance(exc.__cause__, ClientTooSlow):
        return exc.__cause__  # the client stalled while we forwarded its body, not the upstream
    return classify(exc)
