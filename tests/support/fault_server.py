"""A fault-injecting HTTP/1.1 upstream on raw sockets (no netem or toxiproxy here).

``FaultServer.mode`` picks the misbehaviour for the next requests; ``"ok"`` answers normally
with a small Kinvey-shaped JSON entity, so a test can show the gateway recovering.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

OK_BODY = b'{"_id":"e1","title":"ok"}'


def _response(status: int, body: bytes, extra: bytes = b"") -> bytes:
    reason = {200: b"OK", 500: b"Internal Server Error", 503: b"Service Unavailable"}[status]
    return b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        status,
        reason,
        len(body),
        extra,
        body,
    )


class FaultServer:
    def __init__(self) -> None:
        self.mode = "ok"
        self.requests = 0
        self.connections = 0
        self.open_connections = 0
        self.burst_left = 0
        self.latency = (0.0, 0.0)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _read_request(self, reader: asyncio.StreamReader) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return False
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await reader.readexactly(length)
        self.requests += 1
        return True

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_connections += 1
        self._writers.add(writer)
        served = 0
        try:
            while await self._read_request(reader):
                served += 1
                if not await self._answer(writer, served):
                    break
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open_connections -= 1
            self._writers.discard(writer)
            writer.transport.abort()

    async def _answer(self, writer: asyncio.StreamWriter, served: int) -> bool:
        """Answer one request; False closes the connection."""
        mode = self.mode
        if mode == "ok" or (mode == "close_on_reuse" and served == 1):
            writer.write(_response(200, OK_BODY))
            await writer.drain()
            return True
        if mode == "close_on_reuse":
            return False  # the idle keep-alive connection dies just as it is reused
        if mode == "never_answer":
            await asyncio.sleep(3600)
        if mode == "headers_then_stall":
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"partial":'
            )
            await writer.drain()
            await asyncio.sleep(3600)
        if mode == "reset_mid_body":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.transport.abort()
            return False
        if mode == "truncated_chunked":
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + b"y" * 100
            )
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.close()
            return False
        if mode == "garbage":
            writer.write(b"\x16\x03\x01 this is not HTTP at all\r\n\r\n")
            await writer.drain()
            return False
        if mode == "slow":
            low, high = self.latency
            await asyncio.sleep(random.uniform(low, high))
            writer.write(_response(200, OK_BODY))
            await writer.drain()
            return True
        if mode == "burst_5xx":
            if self.burst_left > 0:
                self.burst_left -= 1
                writer.write(
                    _response(
                        503, b'{"error":"KinveyInternalErrorRetry","description":"busy","debug":""}'
                    )
                )
            else:
                writer.write(_response(200, OK_BODY))
            await writer.drain()
            return True
        raise AssertionError(f"unknown mode {mode}")
