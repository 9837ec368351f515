"""SIGTERM drain of a real ``kinvey-gateway serve`` process, as Kubernetes delivers it.

Contract (docs/architecture.md, docs/deploy.md): on SIGTERM the gateway fails /readyz at once
while /healthz stays 200, keeps serving for ``shutdown.drain_seconds``, then stops accepting
connections, lets in-flight requests finish (up to ``shutdown.timeout_seconds``) and exits 0.
A second SIGTERM, or the timeout, ends it promptly.

The upstream holds every response until the test releases it, so "in flight" is a fact the test
controls rather than a race against a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from gateway_process import GatewayProcess, gateway_process

PATH = "/appdata/kid_drain/things"
HEADERS = {"X-Kinvey-API-Version": "6", "Authorization": "Kinvey drain-test-token"}
BOUND_SECONDS = 30.0  # upper bound for every wait, so a broken gateway fails instead of hanging


@dataclass
class HeldUpstream:
    """An upstream that answers only when released; counts requests that reached it."""

    url: str = ""
    arrived: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.arrived += 1
        self.changed.set()
        await self.release.wait()
        return web.json_response([], headers={"X-Kinvey-API-Version": "6"})

    async def wait_arrived(self, count: int) -> None:
        async with asyncio.timeout(BOUND_SECONDS):
            while self.arrived < count:
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def upstream() -> AsyncIterator[HeldUpstream]:
    held = HeldUpstream()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", held.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    held.url = str(server.make_url("")).rstrip("/")
    try:
        yield held
    finally:
        held.release.set()
        await server.close()


def _config(upstream_url: str, drain: float, timeout: float) -> dict[str, Any]:
    return {
        "upstream": {"url": upstream_url, "api_version": 6},
        "shutdown": {"drain_seconds": drain, "timeout_seconds": timeout},
        "logging": {"level": "info", "format": "text", "access_log": False},
    }


async def _get(url: str, session: aiohttp.ClientSession) -> int:
    async with session.get(url, headers=HEADERS) as response:
        await response.read()
        return response.status


async def _status(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        return response.status


async def _wait_not_ready(gateway: GatewayProcess, session: aiohttp.ClientSession) -> None:
    """Poll /readyz until 503 (the signal is handled asynchronously, so allow a few polls)."""
    deadline = time.monotonic() + BOUND_SECONDS
    while time.monotonic() < deadline:
        if await _status(session, f"{gateway.admin_url}/readyz") == 503:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"/readyz never turned 503 after SIGTERM:\n{gateway.log()}")


async def _wait_connection_refused(gateway: GatewayProcess) -> None:
    deadline = time.monotonic() + BOUND_SECONDS
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", gateway.proxy_port)
        except ConnectionRefusedError:
            return
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
        await asyncio.sleep(0.05)
    raise AssertionError(f"the proxy port kept accepting after the drain:\n{gateway.log()}")


def _fresh_connection_session() -> aiohttp.ClientSession:
    # One connection per request: "new connection" must really mean a new TCP connection.
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True),
        timeout=aiohttp.ClientTimeout(total=BOUND_SECONDS * 2),
    )


async def test_sigterm_drains_then_finishes_in_flight_requests_and_exits_0(
    upstream: HeldUpstream, tmp_path: Path
) -> None:
    # drain_seconds leaves room to send one request after /readyz turned 503; the timeout is
    # long enough that the held requests are never cut.
    with gateway_process(tmp_path, _config(upstream.url, drain=3, timeout=60)) as gateway:
        async with _fresh_connection_session() as clients, aiohttp.ClientSession() as probes:
            await gateway.wait_ready(probes)
            url = f"{gateway.proxy_url}{PATH}"
            in_flight = [asyncio.create_task(_get(url, clients)) for _ in range(3)]
            await upstream.wait_arrived(3)

            gateway.signal(signal.SIGTERM)
            await _wait_not_ready(gateway, probes)
            assert not any(t.done() for t in in_flight), "in-flight requests ended early"
            assert await _status(probes, f"{gateway.admin_url}/healthz") == 200

            # During the drain the gateway still takes new connections and requests.
            during_drain = asyncio.create_task(_get(url, clients))
            await upstream.wait_arrived(4)

            # After the drain the listener is closed, while the requests are still held.
            await _wait_connection_refused(gateway)
            assert gateway.process.poll() is None, "exited before its requests finished"
            assert not any(t.done() for t in [*in_flight, during_drain])

            upstream.release.set()
            statuses = await asyncio.gather(*in_flight, during_drain)
            assert statuses == [200, 200, 200, 200], gateway.log()
        code = await gateway.wait_exit(BOUND_SECONDS)
        assert code == 0, f"exit code {code}:\n{gateway.log()}"


async def test_second_sigterm_ends_a_long_drain_promptly(
    upstream: HeldUpstream, tmp_path: Path
) -> None:
    # A drain far longer than the wait below: only the second signal can explain an exit.
    config = _config(upstream.url, drain=300, timeout=300)
    with gateway_process(tmp_path, config) as gateway:
        async with _fresh_connection_session() as clients, aiohttp.ClientSession() as probes:
            await gateway.wait_ready(probes)
            held = asyncio.create_task(_get(f"{gateway.proxy_url}{PATH}", clients))
            await upstream.wait_arrived(1)
            gateway.signal(signal.SIGTERM)
            await _wait_not_ready(gateway, probes)
            assert gateway.process.poll() is None

            gateway.signal(signal.SIGTERM)
            code = await gateway.wait_exit(BOUND_SECONDS)
            assert code is not None, f"still running after a second SIGTERM:\n{gateway.log()}"
            upstream.release.set()
            with contextlib.suppress(aiohttp.ClientError):
                await held


async def test_shutdown_timeout_ends_requests_that_never_finish(
    upstream: HeldUpstream, tmp_path: Path
) -> None:
    # The upstream never answers; a short drain and timeout must still end the process.
    with gateway_process(tmp_path, _config(upstream.url, drain=0.5, timeout=1)) as gateway:
        async with _fresh_connection_session() as clients, aiohttp.ClientSession() as probes:
            await gateway.wait_ready(probes)
            held = asyncio.create_task(_get(f"{gateway.proxy_url}{PATH}", clients))
            await upstream.wait_arrived(1)
            gateway.signal(signal.SIGTERM)
            code = await gateway.wait_exit(BOUND_SECONDS)
            assert code is not None, f"still running past shutdown.timeout:\n{gateway.log()}"
            assert not upstream.release.is_set()
            # The held client gets an answer or a closed connection, never a hang.
            with contextlib.suppress(aiohttp.ClientError):
                await asyncio.wait_for(held, BOUND_SECONDS)
