"""The lean upstream HTTP/1.1 client: one request on a pooled connection, answer head awaited.

What it sends matches what the gateway's aiohttp ``ClientSession`` sent (no auto-added
``Accept``, ``Accept-Encoding``, ``User-Agent`` or ``Content-Type``): the caller's headers,
``Host`` if the caller set none, and framing: ``Content-Length`` for a buffered body (``0``
for a bodyless POST/PUT/PATCH/DELETE), the caller's ``Content-Length`` for a streamed body or
else chunked transfer coding. Header names and values with CR or LF are refused (aiohttp's
serializer). A streamed body is written by a task of its own, so an upstream may answer before
it has read all of it; the connection is then not reused.

Fail closed on framing: a request whose body is not exactly as long as the ``Content-Length``
it announces is never sent (buffered body), or is cut off at the announced length and its
connection dropped (streamed body), with ``RequestFramingError``. Bytes past the announced
length would be read by the upstream as the start of another request.

The connection goes back to the pool as soon as the answer has been received (body included)
and the request sent, not when the caller calls ``release``: the side calls of one client
request (a login after a signup, a multi-insert fan-out) never hold connections they are done
with while the next one waits for the pool.

Retries follow nginx's ``proxy_next_upstream error`` and Go net/http's
``Transport.roundTrip`` (``shouldRetryRequest``): a request is sent again, once, on a fresh
connection only when it failed on a reused keep-alive connection before any byte of the
answer arrived (the upstream closed it while it sat idle: the request was not processed),
and only if it is idempotent (RFC 9110 §9.2.2: GET, HEAD, PUT, DELETE, OPTIONS, TRACE) and
its body, if any, is buffered so it can be sent again. nginx retries non-idempotent requests
only with ``non_idempotent``; Go only when the request was provably not written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.http.aiohttp_shim import RawResponseMessage, serialize_head
from gateway.http.h1_connection import UpstreamConnection
from gateway.http.h1_pool import ConnectionPool, Origin, parse_origin

_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
_ORIGIN_CACHE_LIMIT = 256
_LAST_CHUNK = b"0\r\n\r\n"

Body = bytes | bytearray | AsyncIterable[bytes] | aiohttp.StreamReader | None


class RequestFramingError(aiohttp.ClientError):
    """The request body's length differs from the ``Content-Length`` announced for it."""


def _announced_length(headers: CIMultiDict[str]) -> int | None:
    value = headers.get("Content-Length")
    if value is None:
        return None
    if not value.isdigit():
        raise RequestFramingError(f"invalid Content-Length {value!r}")
    return int(value)


class H1Response:
    """An upstream answer whose head has arrived; ``content`` streams the body."""

    __slots__ = ("_conn", "_pool", "_released", "_writer", "content", "headers", "reason", "status")

    def __init__(
        self,
        pool: ConnectionPool,
        conn: UpstreamConnection,
        message: RawResponseMessage,
        content: aiohttp.StreamReader,
        writer: asyncio.Task[None] | None,
    ) -> None:
        self.status: int = message.code
        self.reason: str | None = message.reason
        self.headers: CIMultiDictProxy[str] = message.headers
        self.content = content
        self._pool, self._conn, self._writer = pool, conn, writer
        self._released = False
        if conn.exchange_done and (writer is None or writer.done()):
            self._give_back()  # the whole answer came with its head: the common case
        else:
            content.on_eof(self._on_answer_read)
            if writer is not None:
                writer.add_done_callback(self._on_request_sent)

    def release(self) -> None:
        """Hand the connection back if the answer has not been read to its end yet: kept alive
        if the exchange ended cleanly, else closed. The body already received stays readable."""
        if self._released:
            return
        writer = self._writer
        if writer is not None and not writer.done():
            writer.cancel()
            self._released = True
            self._pool.release(self._conn, reusable=False)
            return
        self._give_back()

    def _on_answer_read(self) -> None:
        if self._writer is None or self._writer.done():
            self._give_back()

    def _on_request_sent(self, _: asyncio.Task[None]) -> None:
        if self._conn.exchange_done:
            self._give_back()

    def _give_back(self) -> None:
        if self._released:
            return
        self._released = True
        writer = self._writer
        sent = writer is None or (not writer.cancelled() and writer.exception() is None)
        content = self.content
        clean = sent and content.is_eof() and content.exception() is None
        self._pool.release(self._conn, clean and self._conn.exchange_done)


def request_head(
    method: str, target: str, headers: CIMultiDict[str], host: str, body: Body
) -> bytes:
    """The request line and headers; completes ``headers`` in place (Host, framing)."""
    if "Host" not in headers:
        headers["Host"] = host
    if not body:
        if _announced_length(headers):
            raise RequestFramingError("a Content-Length was announced for an empty body")
        framed = "Content-Length" in headers or "Transfer-Encoding" in headers
        if method not in _BODYLESS_METHODS and not framed:
            headers["Content-Length"] = "0"
    elif isinstance(body, bytes | bytearray):
        announced = _announced_length(headers)
        if announced is None:
            headers["Content-Length"] = str(len(body))
        elif announced != len(body):
            raise RequestFramingError(f"{len(body)} body bytes announced as {announced}")
    elif "Content-Length" not in headers and "chunked" not in headers.get("Transfer-Encoding", ""):
        headers["Transfer-Encoding"] = "chunked"
    target = target.partition("#")[0] or "/"  # a fragment is never sent
    return serialize_head(f"{method} {target} HTTP/1.1", headers)


class H1Client:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._origins: dict[str, Origin] = {}

    async def request(
        self,
        base_url: str,
        method: str,
        target: str,
        headers: CIMultiDict[str],
        body: Body,
        *,
        retry_stale: bool,
    ) -> H1Response:
        """Send a request and await the answer's head. With ``retry_stale`` (an idempotent
        request with a body that can be sent again), a kept-alive connection that fails before
        any byte of the answer arrived is replaced by a new one, once."""
        origin = self._origin(base_url)
        head = request_head(method, target, headers, origin.host_header, body)
        fresh = False
        while True:
            conn, reused = await self._pool.acquire(origin, fresh=fresh)
            try:
                return await self._exchange(conn, method, head, headers, body)
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                if not (retry_stale and reused and not fresh) or conn.answered:
                    raise
                fresh = True

    async def _exchange(
        self,
        conn: UpstreamConnection,
        method: str,
        head: bytes,
        headers: CIMultiDict[str],
        body: Body,
    ) -> H1Response:
        writer: asyncio.Task[None] | None = None
        is_head = method == "HEAD"
        if body is None or isinstance(body, bytes | bytearray):
            answer = conn.send_head(head, bytes(body) if body else None, is_head=is_head)
            conn.request_sent()
        else:
            answer = conn.send_head(head, None, is_head=is_head)
            chunks = body.iter_any() if isinstance(body, aiohttp.StreamReader) else body
            length = _announced_length(headers)
            writer = asyncio.get_running_loop().create_task(_write_body(conn, chunks, length))
        try:
            message, content = await answer
        except BaseException:
            if writer is not None:
                writer.cancel()
            self._pool.release(conn, reusable=False)
            raise
        return H1Response(self._pool, conn, message, content, writer)

    def _origin(self, base_url: str) -> Origin:
        origin = self._origins.get(base_url)
        if origin is None:
            origin = parse_origin(base_url)
            if len(self._origins) < _ORIGIN_CACHE_LIMIT:
                self._origins[base_url] = origin
        return origin


async def _write_body(
    conn: UpstreamConnection, chunks: AsyncIterable[bytes], length: int | None
) -> None:
    """Stream the request body (chunked without a ``length``), waiting whenever the upstream's
    socket buffer is full. A failure (the client stalls: ``ClientTooSlow``; the upstream goes
    away; the body is longer or shorter than ``length``) ends the exchange with that error."""
    chunked = length is None
    left = length or 0
    try:
        async for chunk in chunks:
            transport = conn.transport
            if transport is None:
                raise aiohttp.ServerDisconnectedError()
            if not chunk:
                continue
            if chunked:
                transport.writelines((b"%x\r\n" % len(chunk), chunk, b"\r\n"))
            else:
                left -= len(chunk)
                if left < 0:  # checked before writing: not one byte past the announced end
                    raise RequestFramingError(f"the body is longer than its {length} bytes")
                transport.write(chunk)
            if conn.writing_paused:
                await conn.drain()
        if left:
            raise RequestFramingError(f"the body ended {left} bytes short of its {length}")
        if chunked and conn.transport is not None:
            conn.transport.write(_LAST_CHUNK)
        conn.request_sent()
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        conn.fail(exc)
