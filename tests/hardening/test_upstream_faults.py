"""Upstream faults: the client gets the right answer in time, nothing leaks, service recovers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import psutil
import pytest

from tests.conftest import RunningGateway, StartGateway
from tests.support.fault_server import FaultServer
from tests.support.processes import free_port

TIMEOUTS = {"upstream__connect_timeout_seconds": 0.5, "upstream__read_timeout_seconds": 0.5}
HEADERS = {"X-Kinvey-API-Version": "6"}
PATH = "/appdata/kid_x/books/e1"


@pytest.fixture
async def fault() -> AsyncIterator[FaultServer]:
    server = FaultServer()
    await server.start()
    yield server
    await server.stop()


async def _call(gateway: RunningGateway, method: str = "GET") -> tuple[int, Any, float]:
    started = time.monotonic()
    async with aiohttp.ClientSession() as client:
        try:
            async with client.request(
                method,
                gateway.url + PATH,
                headers=HEADERS,
                data=b"{}" if method == "POST" else None,
            ) as response:
                body = await response.json(content_type=None)
                return response.status, body, time.monotonic() - started
        except aiohttp.ClientPayloadError as exc:
            return -1, repr(exc), time.monotonic() - started


def _resources(gateway: RunningGateway) -> tuple[int, int, int]:
    in_use = gateway.runtime.upstream.connections_in_use()
    return len(asyncio.all_tasks()), psutil.Process().num_fds(), in_use


async def _settle_and_check(gateway: RunningGateway, before: tuple[int, int, int]) -> None:
    """No leaked task, file descriptor or pooled connection once the dust settles."""
    for _ in range(100):
        tasks, fds, acquired = _resources(gateway)
        if tasks <= before[0] and fds <= before[1] + 2 and acquired == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"leak: before {before}, after {_resources(gateway)} (tasks, fds, busy)")


@pytest.mark.parametrize(
    ("mode", "status", "debug"),
    [
        ("never_answer", 504, "timed out"),
        ("headers_then_stall", -1, None),  # status line already sent: connection aborted
        ("reset_mid_body", -1, None),
        ("truncated_chunked", -1, None),
        ("garbage", 502, "invalid HTTP"),
    ],
)
async def test_misbehaving_upstream(
    fault: FaultServer, start_gateway: StartGateway, mode: str, status: int, debug: str | None
) -> None:
    gateway = await start_gateway(fault.url, **TIMEOUTS)
    assert (await _call(gateway))[0] == 200
    before = _resources(gateway)
    fault.mode = mode
    got, body, elapsed = await _call(gateway)
    assert got == status, body
    if debug:
        assert body["error"] == "KinveyInternalErrorRetry"
        assert debug in body["debug"]
    assert elapsed < 5  # bounded by the 0.5 s timeouts, with slack for a loaded machine
    fault.mode = "ok"
    assert (await _call(gateway))[0] == 200  # serving normally the moment it recovers
    await _settle_and_check(gateway, before)


async def test_refused_then_recovering_upstream(start_gateway: StartGateway) -> None:
    port = free_port()
    gateway = await start_gateway(f"http://127.0.0.1:{port}", **TIMEOUTS)
    before = _resources(gateway)
    status, body, _ = await _call(gateway)
    assert (status, body["error"]) == (502, "KinveyInternalErrorRetry")
    assert "could not connect" in body["debug"]
    server = FaultServer()
    server._server = await asyncio.start_server(server._connection, "127.0.0.1", port)
    try:
        assert (await _call(gateway))[0] == 200
    finally:
        await server.stop()
    await _settle_and_check(gateway, before)


async def test_slow_upstream_with_jitter_is_waited_for_within_the_read_timeout(
    fault: FaultServer, start_gateway: StartGateway
) -> None:
    gateway = await start_gateway(fault.url, upstream__read_timeout_seconds=2)
    fault.mode, fault.latency = "slow", (0.05, 0.3)
    results = await asyncio.gather(*(_call(gateway) for _ in range(10)))
    assert [r[0] for r in results] == [200] * 10


async def test_idle_connection_closed_on_reuse_is_retried_once_for_get_only(
    fault: FaultServer, start_gateway: StartGateway
) -> None:
    gateway = await start_gateway(fault.url, **TIMEOUTS)
    fault.mode = "close_on_reuse"
    assert (await _call(gateway))[0] == 200
    assert (await _call(gateway))[0] == 200  # reused connection died; retried on a new one
    assert fault.connections == 2
    status, body, _ = await _call(gateway, "POST")  # not idempotent: never retried
    assert status == 502, body
    assert fault.requests == 4  # GET, GET (dropped), GET (retry), POST (dropped)


async def test_5xx_burst_is_passed_through_not_retried(
    fault: FaultServer, start_gateway: StartGateway
) -> None:
    gateway = await start_gateway(fault.url, **TIMEOUTS)
    fault.mode, fault.burst_left = "burst_5xx", 3
    statuses = [(await _call(gateway))[0] for _ in range(5)]
    assert statuses == [503, 503, 503, 200, 200]
    assert fault.requests == 5
