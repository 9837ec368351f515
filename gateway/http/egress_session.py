"""The egress-proxy path: aiohttp's ``ClientSession`` for ``upstream.use_env_proxy``.

Only used when the upstream must be reached through HTTP(S)_PROXY (CONNECT tunnels, NO_PROXY
rules, proxy credentials), which the lean client does not implement. Same pool bounds,
timeouts, TLS context and header rules; connections opened/reused are counted through
aiohttp's tracing signals.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

_SKIP_AUTO_HEADERS = ("Accept-Encoding", "User-Agent", "Content-Type")


def egress_session(
    *,
    pool_size: int,
    pool_timeout: float,
    connect_timeout: float,
    read_timeout: float,
    keepalive_timeout: float,
    ssl_context: ssl.SSLContext,
    on_opened: Callable[[], None],
    on_reused: Callable[[], None],
) -> aiohttp.ClientSession:
    async def count_created(_s: Any, _c: SimpleNamespace, _p: Any) -> None:
        on_opened()

    async def count_reused(_s: Any, _c: SimpleNamespace, _p: Any) -> None:
        on_reused()

    counting = aiohttp.TraceConfig()
    counting.on_connection_create_end.append(count_created)
    counting.on_connection_reuseconn.append(count_reused)
    connector = aiohttp.TCPConnector(
        limit=pool_size,
        limit_per_host=0,
        keepalive_timeout=keepalive_timeout,
        ttl_dns_cache=10,
        ssl=ssl_context,
    )
    timeout = aiohttp.ClientTimeout(
        total=None,
        connect=pool_timeout + connect_timeout,  # aiohttp counts the wait for the pool in it
        sock_connect=connect_timeout,
        sock_read=read_timeout,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        auto_decompress=False,
        trust_env=True,
        trace_configs=[counting],
        skip_auto_headers=_SKIP_AUTO_HEADERS,
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def session_request(
    session: aiohttp.ClientSession,
    base_url: str,
    method: str,
    raw_path: str,
    headers: CIMultiDict[str],
    body: Any,
    *,
    retry_stale: bool,
) -> aiohttp.ClientResponse:
    """Open the response; a dead kept-alive connection is retried once if ``retry_stale``."""
    url = URL(base_url + raw_path, encoded=True)
    for attempt in (1, 2):
        try:
            return await session.request(
                method, url, headers=headers, data=body if body else None, allow_redirects=False
            )
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            if not retry_stale or attempt == 2 or isinstance(exc, aiohttp.ClientConnectorError):
                raise
    raise AssertionError("unreachable")
