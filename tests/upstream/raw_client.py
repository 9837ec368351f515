"""A raw-socket HTTP/1.1 client for the transport conformance tests: the bytes are the assertion.

``RawClient`` keeps one connection; ``send`` writes bytes exactly as given and ``answer``
reads one response, framed as RFC 9112 §6.3 says (no body for HEAD, 1xx, 204, 304; else
chunked, Content-Length, or until close), and keeps its raw head for byte-level checks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass
class RawAnswer:
    head: bytes
    body: bytes

    @property
    def status(self) -> int:
        return int(self.head.split(b" ", 2)[1])

    @property
    def headers(self) -> list[tuple[str, str]]:
        lines = self.head.decode("latin-1").split("\r\n")[1:]
        return [
            (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines if line)
        ]

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[0] if found else None

    def names(self) -> set[str]:
        return {k.lower() for k, _ in self.headers}


class RawClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, address: tuple[str, int] | None) -> RawClient:
        assert address is not None
        reader, writer = await asyncio.open_connection(*address)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self, method: str = "GET", timeout: float = 10.0) -> RawAnswer:
        return await asyncio.wait_for(self._answer(method), timeout)

    async def request(self, data: bytes, method: str = "GET") -> RawAnswer:
        await self.send(data)
        return await self.answer(method)

    def close(self) -> None:
        self.writer.transport.abort()

    async def _answer(self, method: str) -> RawAnswer:
        head = await self.reader.readuntil(b"\r\n\r\n")
        answer = RawAnswer(head, b"")
        status = answer.status
        if method == "HEAD" or status < 200 or status in (204, 304):
            return answer
        if (answer.header("Transfer-Encoding") or "").lower() == "chunked":
            body = b""
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                body += (await self.reader.readexactly(size + 2))[:-2]
            while await self.reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailer fields
            answer.body = body
        elif (length := answer.header("Content-Length")) is not None:
            answer.body = await self.reader.readexactly(int(length))
        else:
            answer.body = await self.reader.read()
        return answer


def request_bytes(
    method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    """A request as bytes: ``Host`` and, for a body, ``Content-Length`` unless given."""
    all_headers = {"Host": "gw.test", **(headers or {})}
    if body and "Content-Length" not in all_headers and "Transfer-Encoding" not in all_headers:
        all_headers["Content-Length"] = str(len(body))
    lines = "".join(f"{name}: {value}\r\n" for name, value in all_headers.items())
    return f"{method} {path} HTTP/1.1\r\n{lines}\r\n".encode("latin-1") + body
