"""Write an answer to the client: relay an upstream body without buffering, or a built one.

A relayed body keeps its bytes and framing (Content-Length, Content-Encoding) exactly, except
that a 204 carries no Content-Length (a 304 keeps the upstream's, and gets none otherwise). If the
upstream fails after our status line is out, the client connection is aborted rather than
finished, so the client sees a broken response instead of a short "complete" one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Protocol

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from gateway.http.whole_answer import GATEWAY_SERVER, WRITE_BUFFER_HIGH, answer_whole


class RelayedAnswer(Protocol):
    """What ``relay`` reads of an upstream answer (``upstream.UpstreamResponse`` is one)."""

    @property
    def content(self) -> aiohttp.StreamReader: ...

    @property
    def reason(self) -> str | None: ...


log = logging.getLogger("gateway.proxy")
_BODYLESS_STATUSES = frozenset({204, 304})


class RelayAborted(Exception):
    """The upstream broke mid-body; the client connection was aborted."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def _bodyless(status: int, method: str) -> bool:
    return status in _BODYLESS_STATUSES or status < 200 or method == "HEAD"


# Above this many bytes queued for a client, the next write may block: bound it with a timeout.
_WRITE_BUFFER_HIGH = WRITE_BUFFER_HIGH


class Tee:
    """A bounded copy of a relayed body (for a shadow comparison): ``overflowed`` once the body
    outgrew ``limit``, and then no more bytes are kept."""

    __slots__ = ("chunks", "limit", "overflowed", "size")

    def __init__(self, limit: int) -> None:
        self.limit, self.size, self.overflowed = limit, 0, False
        self.chunks: list[bytes] = []

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.overflowed, self.chunks = True, []
        elif not self.overflowed:
            self.chunks.append(chunk)


class ClientTooSlow(Exception):
    """A client stopped reading (or sending) for longer than the body timeout."""


async def client_body(stream: aiohttp.StreamReader | None, timeout: float) -> AsyncIterator[bytes]:
    """The client's body as chunks, each awaited at most ``timeout`` seconds."""
    assert stream is not None
    while True:
        try:
            async with asyncio.timeout(timeout):
                chunk = await stream.readany()
        except TimeoutError:
            raise ClientTooSlow("the client stopped sending its body") from None
        if not chunk:
            return
        yield chunk


async def _write(
    response: web.StreamResponse, request: web.BaseRequest, chunk: bytes, timeout: float
) -> None:
    transport = request.transport
    if transport is None or transport.get_write_buffer_size() + len(chunk) < _WRITE_BUFFER_HIGH:
        await response.write(chunk)
        return
    try:
        async with asyncio.timeout(timeout):
            await response.write(chunk)
    except TimeoutError:
        _abort(request)
        raise ClientTooSlow("the client stopped reading the answer") from None


async def relay(
    request: web.BaseRequest,
    upstream: RelayedAnswer,
    headers: CIMultiDict[str],
    status: int,
    write_timeout: float = 60.0,
    tee: Tee | None = None,
) -> tuple[web.StreamResponse, int]:
    """Stream the upstream body to the client; returns the response and bytes written.

    With ``tee``, the bytes sent are also copied there (bounded), exactly as the client got them.
    """
    content = upstream.content
    if status == 204 or status < 200:
        headers.popall("Content-Length", None)  # RFC 9110 §8.6: never on 1xx or 204
    if "Content-Length" in headers and content.is_eof() and content.exception() is None:
        # The whole body came with the head (the common small answer). Profile: streaming it
        # cost a write for the head, another for the body, and the streaming machinery.
        bodyless = _bodyless(status, request.method)
        transport = request.transport
        buffered = 0 if transport is None else transport.get_write_buffer_size()
        if bodyless or buffered + content.total_bytes < _WRITE_BUFFER_HIGH:
            body = b"" if bodyless else content.read_nowait()
            if tee is not None:
                tee.add(body)
            reason = upstream.reason
            whole = answer_whole(request, status, reason, headers, body, bodyless=bodyless)
            if whole is not None:
                return whole, len(body)
            return web.Response(status=status, reason=reason, headers=headers, body=body), len(body)
    response = web.StreamResponse(status=status, reason=upstream.reason, headers=headers)
    if _bodyless(status, request.method):
        await response.prepare(request)
        await response.write_eof()
        return response, 0
    await response.prepare(request)
    sent = 0
    try:
        async for chunk in upstream.content.iter_any():
            await _write(response, request, chunk, write_timeout)
            sent += len(chunk)
            if tee is not None:
                tee.add(chunk)
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as exc:
        _abort(request)
        raise RelayAborted("payload_error") from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        _abort(request)
        raise RelayAborted("timeout") from exc
    except aiohttp.ClientConnectionResetError:
        raise  # the client went away: nothing to finish
    await response.write_eof()
    return response, sent


def _abort(request: web.BaseRequest) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


async def write_buffered(
    request: web.BaseRequest, status: int, headers: CIMultiDict[str], body: bytes
) -> web.StreamResponse:
    """A complete answer built by the gateway, framed by its length. 1xx/204/304 carry no body
    and no length; a HEAD answer gets the status and headers a GET would get, the length of
    the body included, without the body (RFC 9110 §9.3.2, §8.6)."""
    headers.setdefault("Server", GATEWAY_SERVER)
    headers.popall("Content-Length", None)
    headers.popall("Transfer-Encoding", None)
    if status in _BODYLESS_STATUSES or status < 200:
        if status in _BODYLESS_STATUSES:
            headers.popall("Content-Type", None)
        whole = answer_whole(request, status, None, headers, b"", bodyless=True)
        return whole if whole is not None else web.Response(status=status, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        if body and "Content-Type" not in headers:
            headers["Content-Type"] = "application/octet-stream"
        whole = answer_whole(request, status, None, headers, b"", bodyless=True)
    else:
        whole = answer_whole(request, status, None, headers, body, bodyless=False)
    if whole is not None:
        return whole
    return web.Response(status=status, headers=headers, body=body)
