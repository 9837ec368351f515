"""A complete small answer, written to the client in one piece.

Most answers are small and complete before the first byte goes out (a relayed body that came
with its head, a translated or gateway-made body). aiohttp's ``web.Response`` handles every
case (compression, cookies, chunking, HTTP/1.0, signals) and that generality was ~9% of a
pass-through request's CPU (profile in bench/README.md). ``WholeAnswer`` is a
``StreamResponse`` whose ``prepare`` writes status line, headers and body with one
``transport.write``; ``write_eof`` then has nothing left to do. It is used only for what it
handles, HTTP/1.1 keep-alive requests and bodies that fit the unguarded write buffer;
``answer_whole`` returns None for anything else, which the caller answers as before.

What goes on the wire matches ``web.Response``: the caller's headers, ``Content-Length`` for
a body (none on 1xx/204/304 or HEAD answers, which the caller has framed), ``Content-Type``
``application/octet-stream`` for an untyped body, ``Date`` and ``Server`` when absent.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Final

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from multidict import CIMultiDict

from gateway.http.aiohttp_shim import HttpVersion11, serialize_head

# The Server header of answers the gateway makes (aiohttp's default names Python's version).
GATEWAY_SERVER: Final = "kinvey-gateway"
# Above this many bytes queued for a client, a write may block: such bodies are streamed.
WRITE_BUFFER_HIGH: Final = 64 * 1024
_date_cache: list[tuple[int, str]] = [(-1, "")]


def _http_date() -> str:
    now = int(time.time())
    second, text = _date_cache[0]
    if now != second:
        text = formatdate(now, usegmt=True)
        _date_cache[0] = (now, text)
    return text


class WholeAnswer(web.StreamResponse):
    def __init__(self, status: int, reason: str | None, headers: CIMultiDict[str], body: bytes):
        super().__init__(status=status, reason=reason)
        self._wire_headers = headers
        self._wire_body = body
        self._written = False

    @property
    def keep_alive(self) -> bool:
        return True  # only made for keep-alive requests (see answer_whole)

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if not self._written:
            self._written = True
            transport = request.transport
            if transport is not None:
                line = f"HTTP/1.1 {self.status} {self.reason}"
                transport.write(serialize_head(line, self._wire_headers) + self._wire_body)
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        return None

    @property
    def wire_body_length(self) -> int:
        """Body bytes this answer writes (none for a HEAD or bodyless answer)."""
        return len(self._wire_body)


def answer_whole(
    request: web.BaseRequest,
    status: int,
    reason: str | None,
    headers: CIMultiDict[str],
    body: bytes,
    *,
    bodyless: bool,
) -> WholeAnswer | None:
    """The answer as one write, or None if it needs aiohttp; completes ``headers`` in place."""
    transport = request.transport
    if (
        transport is None
        or request.version != HttpVersion11
        or not request.keep_alive
        or transport.get_write_buffer_size() + len(body) >= WRITE_BUFFER_HIGH
    ):
        return None
    if not bodyless:
        headers["Content-Length"] = str(len(body))
        if body and "Content-Type" not in headers:
            headers["Content-Type"] = "application/octet-stream"
    if "Date" not in headers:
        headers["Date"] = _http_date()
    if "Server" not in headers:
        headers["Server"] = GATEWAY_SERVER
    return WholeAnswer(status, reason, headers, b"" if bodyless else body)
