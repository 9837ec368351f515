"""A raw-socket HTTP/1.1 upstream whose answers a test scripts byte for byte.

Each request's raw bytes (head and body, de-chunked framing kept as received) are recorded
with the number of the connection it came on. ``answer`` decides what is written back: a
callable gets the parsed request and returns bytes, or ``None`` to close the connection
without answering, or a coroutine for slow answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Received:
    connection: int
    head: bytes
    body: bytes

    @property
    def request_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode()

    @property
    def headers(self) -> list[tuple[str, str]]:
        lines = self.head.decode().split("\r\n")[1:]
        return [(k, v.strip()) for k, _, v in (line.partition(":") for line in lines if line)]

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[0] if found else None


Answer = Callable[[Received], bytes | Awaitable[bytes | None] | None]


def ok(body: bytes = b"ok", *extra: str) -> bytes:
    head = "".join(f"{line}\r\n" for line in extra)
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), head.encode(), body)


@dataclass
class ScriptedUpstream:
    answer: Answer = lambda _: ok()
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    closed_connections: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def then_close(self, data: bytes) -> Answer:
        """An answer that writes ``data`` (a part of an answer) and closes the connection."""

        async def write_and_close(_: Received) -> None:
            writer = next(iter(self._writers))
            writer.write(data)
            await writer.drain()
            return None

        return write_and_close

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self._writers.add(writer)
        try:
            while True:
                request = await _read_request(reader, number)
                if request is None:
                    break
                self.received.append(request)
                reply = self.answer(request)
                if not isinstance(reply, bytes | None):
                    reply = await reply
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self.closed_connections += 1
            self._writers.discard(writer)
            writer.transport.abort()


async def _read_request(reader: asyncio.StreamReader, connection: int) -> Received | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    request = Received(connection, head, b"")
    length = request.header("Content-Length")
    if length is not None:
        request.body = await reader.readexactly(int(length))
    elif "chunked" in (request.header("Transfer-Encoding") or ""):
        body = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            chunk = await reader.readexactly(int(size_line, 16) + 2)
            body += size_line + chunk
            if size_line == b"0\r\n":
                break
        request.body = body
    return request
