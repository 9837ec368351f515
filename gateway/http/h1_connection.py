"""One keep-alive HTTP/1.1 connection to the upstream, parsed by aiohttp's C parser.

The request head (and a buffered body) go out in one write; the answer is parsed by
``aiohttp._http_parser.HttpResponseParser`` (llhttp), the parser aiohttp's own client uses, and
its body is handed on as the ``aiohttp.StreamReader`` that parser fills, with the same flow
control (a full reader pauses the socket). Errors are aiohttp's client exceptions, so callers
see what ``ClientSession`` raised: ``ServerDisconnectedError`` / ``ClientOSError`` when the
connection dies before an answer, ``SocketTimeoutError`` when the upstream goes quiet for
``read_timeout``, ``ClientPayloadError`` for a broken body, ``HttpProcessingError`` for garbage.

The read timeout is a lazy timer: data only records the time, and a timer that fires early
re-arms itself for the remaining time; one that fires while nothing is owed does nothing. So
a busy connection creates about one timer per ``read_timeout``, not one (or one per packet)
per request.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiohttp
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http_parser import HttpResponseParser, RawResponseMessage
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader

_READ_LIMIT = 2**16  # bytes a body reader buffers before pausing the socket (aiohttp's default)
_NO_BODY_STATUSES = frozenset({204, 304})

Answer = tuple[RawResponseMessage, StreamReader]


class UpstreamConnection(BaseProtocol):
    """Protocol for one upstream connection; one exchange at a time (no pipelining)."""

    __slots__ = (
        "_answer",
        "_body",
        "_for_head",
        "_last_read",
        "_read_timeout",
        "_timer",
        "_waiting",
        "closed",
        "idle_since",
        "key",
        "should_close",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, key: Any, read_timeout: float) -> None:
        super().__init__(loop)
        self.key = key
        self.closed = False
        self.should_close = False  # the upstream said so, or something went wrong
        self.idle_since = 0.0
        self._read_timeout = read_timeout
        self._answer: asyncio.Future[Answer] | None = None
        self._body: StreamReader | None = None  # the body still being received
        self._for_head = False
        self._timer: asyncio.TimerHandle | None = None
        self._waiting = False  # the upstream owes us bytes: its silence counts
        self._last_read = 0.0

    # -- one exchange ------------------------------------------------------------------------

    def send_head(
        self, head: bytes, body: bytes | None, *, is_head: bool
    ) -> asyncio.Future[Answer]:
        """Write the request (head and buffered body); the future resolves with the answer."""
        assert self.transport is not None and self._answer is None and self._body is None
        if self._parser is None or is_head != self._for_head:
            # A HEAD answer announces a body it does not carry: its parser must know that.
            self._parser = HttpResponseParser(
                self,
                self._loop,
                _READ_LIMIT,
                payload_exception=aiohttp.ClientPayloadError,
                response_with_body=not is_head,
                read_until_eof=True,
                auto_decompress=False,
            )
            self._for_head = is_head
        answer = self._answer = self._loop.create_future()
        if not body:
            self.transport.write(head)
        elif len(body) < 16384:
            self.transport.write(head + body)  # one packet for the common small request
        else:
            self.transport.writelines((head, body))
        return answer

    def request_sent(self) -> None:
        """The whole request is out: from now on the upstream has ``read_timeout`` to answer."""
        if self._answer is not None or self._body is not None:
            self._arm_timer()

    async def drain(self) -> None:
        await self._drain_helper()

    def fail(self, exc: BaseException) -> None:
        """End the exchange with ``exc`` (raised to whoever waits) and drop the connection."""
        self.should_close = True
        self._cancel_timer()
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            answer.set_exception(exc)
        body, self._body = self._body, None
        if body is not None:
            if not isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerTimeoutError):
                exc = aiohttp.ClientPayloadError(f"the upstream body broke off: {exc!r}")
            body.set_exception(exc)
        if self.transport is not None:
            self.transport.abort()

    @property
    def reusable(self) -> bool:
        return not (self.closed or self.should_close or self._answer or self._body)

    # -- asyncio.Protocol ----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None or (self._answer is None and self._body is None):
            self.fail(aiohttp.ClientOSError("the upstream sent bytes nobody asked for"))
            return
        if self._waiting:
            self._last_read = self._loop.time()
        elif data and not self._reading_paused:
            self._arm_timer()  # an early answer, before our request body was all sent
        try:
            messages, _, _ = parser.feed_data(data)
        except Exception as exc:  # llhttp refused the bytes: BadStatusLine, LineTooLong, ...
            self.fail(exc)
            return
        for message, body in messages:
            self._on_message(message, body)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = self.should_close = True
        self._cancel_timer()
        body, self._body = self._body, None
        if body is not None and self._parser is not None:
            try:
                self._parser.feed_eof()  # ends a read-until-close body; raises for a short one
            except Exception as short:
                body.set_exception(aiohttp.ClientPayloadError(f"the body is incomplete: {short!r}"))
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            if exc is None:
                answer.set_exception(aiohttp.ServerDisconnectedError())
            elif isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError):
                answer.set_exception(aiohttp.ClientOSError(*exc.args))
            else:
                answer.set_exception(exc)  # a TLS failure stays one
        super().connection_lost(exc)

    def pause_reading(self) -> None:
        super().pause_reading()
        self._stop_timer()  # the reader is full: the wait is our client's doing, not the upstream's

    def resume_reading(self, resume_parser: bool = True) -> None:
        # A body reader calls this after every read; only a real pause has anything to undo.
        if self._reading_paused:
            super().resume_reading(resume_parser)
            if self._body is not None:
                self._arm_timer()

    # -- internals ---------------------------------------------------------------------

    def _on_message(self, message: RawResponseMessage, body: StreamReader) -> None:
        code = message.code
        if 100 <= code < 200 and code != 101:
            return  # interim answer (100 Continue, 103 Early Hints): the final one follows
        answer, self._answer = self._answer, None
        if answer is None or answer.done():
            self.should_close = True  # an answer nobody asked for: never reuse this connection
            return
        if message.should_close or code == 101:
            self.should_close = True
        if code in _NO_BODY_STATUSES or body is EMPTY_PAYLOAD or body.is_eof():
            self._stop_timer()
        else:
            self._body = body
            body.on_eof(self._body_done)
        answer.set_result((message, EMPTY_PAYLOAD if code in _NO_BODY_STATUSES else body))

    def _body_done(self) -> None:
        self._body = None
        self._stop_timer()

    def _arm_timer(self) -> None:
        self._waiting = True
        self._last_read = self._loop.time()
        if self._timer is None and self._read_timeout:
            self._timer = self._loop.call_at(self._last_read + self._read_timeout, self._on_timer)

    def _stop_timer(self) -> None:
        self._waiting = False  # a pending timer will find nothing owed

    def _cancel_timer(self) -> None:
        self._waiting = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        if not self._waiting:
            return
        deadline = self._last_read + self._read_timeout
        if self._loop.time() < deadline:
            self._timer = self._loop.call_at(deadline, self._on_timer)
            return
        self.fail(aiohttp.SocketTimeoutError("the upstream stopped sending"))
