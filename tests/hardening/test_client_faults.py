"""Client-side faults: disconnects, stalls, idle floods and request floods stay bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import RunningGateway, StartGateway, StartUpstream
from tests.hardening.test_upstream_faults import _resources, _settle_and_check


class RecordingSink:
    """An upstream that records whether each uploaded body arrived whole."""

    def __init__(self) -> None:
        self.completed: list[int] = []
        self.broken: list[int] = []
        self.in_flight = 0

    async def sink(self, request: web.Request) -> web.Response:
        size = 0
        try:
            async for chunk in request.content.iter_any():
                size += len(chunk)
        except (aiohttp.ClientPayloadError, ConnectionError, asyncio.CancelledError):
            self.broken.append(size)
            raise
        if size != request.content_length:
            self.broken.append(size)
            return web.Response(status=400)
        self.completed.append(size)
        return web.json_response({"received": size})

    async def big(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(200 << 20)})
        await response.prepare(request)
        block = b"d" * (1 << 20)
        for _ in range(200):
            await response.write(block)
        return response

    async def slow(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        await asyncio.sleep(0.2)
        self.in_flight -= 1
        return web.json_response({"ok": True})

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 30)
        app.router.add_post("/fake/sink", self.sink)
        app.router.add_get("/fake/big", self.big)
        app.router.add_get("/fake/slow", self.slow)
        return app


StartSinkGateway = Callable[..., Awaitable[tuple[RecordingSink, RunningGateway]]]


@pytest.fixture
def start_sink_gateway(
    start_upstream: StartUpstream, start_gateway: StartGateway
) -> StartSinkGateway:
    """A gateway (with ``settings``) in front of a fresh RecordingSink."""

    async def start(**settings: Any) -> tuple[RecordingSink, RunningGateway]:
        recorder = RecordingSink()
        gateway = await start_gateway(await start_upstream(recorder.app()), **settings)
        return recorder, gateway

    return start


async def _open(gateway: RunningGateway) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = gateway.runtime.proxy_address  # type: ignore[misc]
    return await asyncio.open_connection(host, port)


async def _send_raw(
    gateway: RunningGateway, *writes: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw connection to the gateway that has sent ``writes`` (one write each) and drained."""
    reader, writer = await _open(gateway)
    for data in writes:
        writer.write(data)
    await writer.drain()
    return reader, writer


async def _healthy(gateway: RunningGateway, upstream_path: str = "/fake/slow") -> None:
    async with aiohttp.ClientSession() as client, client.get(gateway.url + upstream_path) as r:
        assert r.status == 200


async def test_client_disconnecting_mid_upload_cancels_the_upstream_request(
    start_sink_gateway: StartSinkGateway,
) -> None:
    recorder, gateway = await start_sink_gateway()
    await _healthy(gateway)
    before = _resources(gateway)
    _reader, writer = await _send_raw(
        gateway,
        b"POST /fake/sink HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n",
        b"p" * (1 << 20),
    )
    await asyncio.sleep(0.2)
    writer.transport.abort()
    for _ in range(100):
        if recorder.broken:
            break
        await asyncio.sleep(0.05)
    assert recorder.completed == []
    assert recorder.broken and recorder.broken[0] < 10485760
    await _healthy(gateway)
    await _settle_and_check(gateway, before)


async def test_client_disconnecting_mid_download_releases_the_upstream(
    start_sink_gateway: StartSinkGateway,
) -> None:
    _, gateway = await start_sink_gateway()
    await _healthy(gateway)
    before = _resources(gateway)
    reader, writer = await _send_raw(gateway, b"GET /fake/big HTTP/1.1\r\nHost: x\r\n\r\n")
    await reader.readexactly(2 << 20)
    writer.transport.abort()
    await _healthy(gateway)
    await _settle_and_check(gateway, before)


async def test_stalled_upload_is_cut_after_the_body_timeout(
    start_sink_gateway: StartSinkGateway,
) -> None:
    recorder, gateway = await start_sink_gateway(limits__client_body_timeout_seconds=0.3)
    reader, writer = await _send_raw(
        gateway, b"POST /fake/sink HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"
    )
    closed = await asyncio.wait_for(reader.read(), 10)  # the gateway drops the connection
    writer.close()
    assert b" 200 " not in closed
    assert recorder.completed == []
    await _healthy(gateway)


async def test_client_that_stops_reading_is_cut_after_the_body_timeout(
    start_sink_gateway: StartSinkGateway,
) -> None:
    _, gateway = await start_sink_gateway(limits__client_body_timeout_seconds=0.3)
    before = _resources(gateway)
    _reader, writer = await _send_raw(gateway, b"GET /fake/big HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(1.5)  # never read: socket buffers fill, the gateway's write stalls
    await _settle_and_check(gateway, before)  # the upstream connection was released
    writer.transport.abort()
    await _healthy(gateway)


async def test_idle_connections_are_bounded(
    start_sink_gateway: StartSinkGateway,
) -> None:
    _, gateway = await start_sink_gateway(limits__max_client_connections=20)
    sockets = [await _open(gateway) for _ in range(50)]
    await asyncio.sleep(0.2)
    open_count = 0
    for reader, _ in sockets:
        try:
            data = await asyncio.wait_for(reader.read(1), 0.05)
            open_count += data != b""
        except TimeoutError:
            open_count += 1  # still open and idle
    assert open_count <= 20
    for _, writer in sockets:
        writer.transport.abort()
    await asyncio.sleep(0.1)
    await _healthy(gateway)


async def test_flood_beyond_the_pool_is_queued_and_beyond_the_limit_rejected_with_503(
    start_sink_gateway: StartSinkGateway,
) -> None:
    recorder, gateway = await start_sink_gateway(
        upstream__pool_size=4, limits__max_concurrent_requests=30
    )

    async def one(client: aiohttp.ClientSession) -> tuple[int, Any]:
        async with client.get(gateway.url + "/fake/slow") as response:
            return response.status, await response.json(content_type=None)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as client:
        results = await asyncio.gather(*(one(client) for _ in range(60)))
    statuses = [status for status, _ in results]
    assert set(statuses) <= {200, 503}
    assert statuses.count(200) >= 30
    assert statuses.count(503) >= 1
    rejected = next(body for status, body in results if status == 503)
    assert rejected["error"] == "KinveyInternalErrorRetry"
    assert "overloaded" in rejected["debug"]
    assert recorder.in_flight == 0
