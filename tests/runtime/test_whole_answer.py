"""A whole answer written in one piece says on the wire what aiohttp's web.Response says."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from multidict import CIMultiDict

from gateway.http.whole_answer import GATEWAY_SERVER, WholeAnswer, answer_whole

Case = tuple[str, int, list[tuple[str, str]], bytes, bool]
CASES: list[Case] = [
    ("GET", 200, [("Content-Type", "application/json"), ("X-A", "1")], b'{"a":1}', False),
    ("GET", 200, [("X-A", "1")], b"untyped", False),
    ("GET", 404, [("Content-Type", "application/json")], b"{}", False),
    ("GET", 302, [("Location", "http://x/y")], b"", False),
    ("DELETE", 204, [("X-Kinvey-Request-Id", "r1")], b"", True),
    ("GET", 304, [("ETag", '"e"')], b"", True),
    ("HEAD", 200, [("Content-Length", "5"), ("Content-Type", "text/plain")], b"", True),
]


async def _raw_exchange(
    handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]],
    method: str,
    close: bool = False,
) -> bytes:
    server = web.Server(handler)
    runner = web.ServerRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        connection = "Connection: close\r\n" if close else ""
        writer.write(f"{method} / HTTP/1.1\r\nHost: x\r\n{connection}\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        body = await reader.readexactly(length) if method != "HEAD" else b""
        writer.close()
        return head + body
    finally:
        await runner.cleanup()


def _normalized(wire: bytes) -> tuple[str, set[str], bytes]:
    head, _, body = wire.partition(b"\r\n\r\n")
    status, *lines = head.decode().split("\r\n")
    return status, {line for line in lines if not line.startswith("Date:")}, body


@pytest.mark.parametrize(("method", "status", "headers", "body", "bodyless"), CASES)
async def test_same_bytes_as_web_response(
    method: str, status: int, headers: list[tuple[str, str]], body: bytes, bodyless: bool
) -> None:
    made: list[web.StreamResponse] = []

    async def whole(request: web.BaseRequest) -> web.StreamResponse:
        answer = answer_whole(request, status, None, CIMultiDict(headers), body, bodyless=bodyless)
        assert isinstance(answer, WholeAnswer)
        made.append(answer)
        return answer

    async def aiohttp_response(request: web.BaseRequest) -> web.StreamResponse:
        # As the gateway built it before: a relayed HEAD answer keeps the upstream's length.
        # The Server header names the gateway, not aiohttp's default (Python's version).
        named = CIMultiDict([("Server", GATEWAY_SERVER), *headers])
        return web.Response(status=status, headers=named, body=body or None)

    ours = _normalized(await _raw_exchange(whole, method))
    theirs = _normalized(await _raw_exchange(aiohttp_response, method))
    assert made and ours == theirs


async def test_not_used_when_the_client_asks_to_close() -> None:
    async def whole(request: web.BaseRequest) -> web.StreamResponse:
        answer = answer_whole(request, 200, None, CIMultiDict(), b"x", bodyless=False)
        assert answer is None
        return web.Response(body=b"x")

    assert b"Connection: close" in await _raw_exchange(whole, "GET", close=True)
