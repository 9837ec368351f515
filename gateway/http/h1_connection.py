"""One keep-alive HTTP/1.1 connection to the upstream, parsed by aiohttp's C parser.

The request head (and a buffered body) go out in one write; the answer is parsed by aiohttp's
llhttp response parser (through ``aiohttp_shim``) and its body is handed on as the
``StreamReader`` that parser fills, with the same flow control (a full reader pauses the
socket). Errors are aiohttp's client exceptions (``h1_answer.py``), as ``ClientSession``'s.

What a proxy must get right about the answer (RFC 9112, and what nginx and Envoy do):

- 1xx interim answers are consumed and the final one follows. ``100`` is the gateway's to
  send (``http/expect.py``); ``102``/``103`` are not forwarded either (a deliberate departure
  from RFC 9110 §15.2: old Kinvey SDKs predate Early Hints and may end a request on one).
- A ``101`` or a transfer coding other than ``chunked`` is refused (``h1_answer.py``).
- The parser gets an answer head on its own, then at most the body length announced, so
  bytes after a complete answer (a buggy upstream) cannot spoil it: the answer is delivered
  and the connection is dropped.
- Trailer fields are never headers of the next answer: aiohttp's parser keeps the last
  trailer field pending into its next message, so a connection whose answer was chunked
  gets a fresh parser for the next one.

The read timeout is lazy (``read_timer.py``): about one timer per ``read_timeout``.
"""

from __future__ import annotations

import asyncio

import aiohttp

from gateway.http import h1_answer
from gateway.http.aiohttp_shim import (
    EMPTY_PAYLOAD,
    HttpProcessingError,
    ParsingProtocol,
    RawResponseMessage,
    ResponseParser,
    StreamReader,
)
from gateway.http.h1_answer import NO_BODY_STATUSES, head_end
from gateway.http.read_timer import ReadTimer

Answer = tuple[RawResponseMessage, StreamReader]


class UpstreamConnection(ParsingProtocol):
    """Protocol for one upstream connection; one exchange at a time (no pipelining)."""

    __slots__ = (
        "_answer",
        "_body",
        "_body_left",
        "_for_head",
        "_head_start",
        "_renew_parser",
        "_timer",
        "answered",
        "closed",
        "idle_since",
        "key",
        "should_close",
    )

    def __init__(
        self, loop: asyncio.AbstractEventLoop, key: tuple[str, int, bool], read_timeout: float
    ) -> None:
        super().__init__(loop)
        self.key = key
        self.closed = False
        self.should_close = False  # the upstream said so, or something went wrong
        self.answered = False  # a byte of the current exchange's answer has arrived
        self.idle_since = 0.0
        self._answer: asyncio.Future[Answer] | None = None
        self._body: StreamReader | None = None  # the body still being received
        self._body_left = -1  # body bytes the answer still announces; -1: chunked or until close
        self._head_start: bytes | None = None  # the bytes so far of an unfinished answer head
        self._for_head = False
        self._renew_parser = False
        self._timer = ReadTimer(loop, read_timeout, self._on_silence)

    # -- one exchange ------------------------------------------------------------------------

    def send_head(
        self, head: bytes, body: bytes | None, *, is_head: bool
    ) -> asyncio.Future[Answer]:
        """Write the request (head and buffered body); the future resolves with the answer."""
        assert self.transport is not None and self._answer is None and self._body is None
        if self.parser is None or is_head != self._for_head or self._renew_parser:
            self.new_response_parser(for_head=is_head)
            self._for_head = is_head
            self._renew_parser = False
        self.answered = False
        self._body_left = -1
        self._head_start = None
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
            self._timer.arm()

    def fail(self, exc: BaseException) -> None:
        """End the exchange with ``exc`` (raised to whoever waits) and drop the connection."""
        self.should_close = True
        self._timer.cancel()
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            answer.set_exception(exc)
        body, self._body = self._body, None
        if body is not None:
            body.set_exception(h1_answer.broken_body(exc))
        if self.transport is not None:
            self.transport.abort()

    @property
    def reusable(self) -> bool:
        return not (self.closed or self.should_close or self._answer or self._body)

    @property
    def exchange_done(self) -> bool:
        """The answer, body included, has been received (or the exchange failed)."""
        return self._answer is None and self._body is None

    # -- asyncio.Protocol ----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None or (self._answer is None and self._body is None):
            if data:
                self.fail(aiohttp.ClientOSError("the upstream sent bytes nobody asked for"))
            return
        self.answered = True
        timer = self._timer
        if timer.waiting:
            timer.last_read = self._loop.time()
        elif data and not self.reading_paused:
            timer.arm()  # an early answer, before our request body was all sent
        try:
            if self._answer is not None:
                data = self._take_answer(parser, data)
                parser = self.parser or parser  # a fresh one if the answer was parsed again
            if self._body_left >= 0 and len(data) > self._body_left:
                # Bytes after a complete answer: deliver the answer, never reuse the connection.
                self.should_close = True
                data = data[: self._body_left]
            if data or self._body is not None:
                # ``b""`` too: it is how aiohttp's ``resume_reading`` (its body reader has room
                # again) tells the parser to go on. A parser paused by a full reader keeps the
                # rest of its packet, maybe the answer's end (llhttp's message-complete, the
                # ``0`` chunk) that no later packet will bring: unfed, the body never ends.
                if self._body_left > 0:
                    self._body_left -= len(data)
                messages, _, _ = parser.feed_data(data)
                for message, body in messages:
                    self._on_message(message, body)
        except Exception as exc:  # llhttp refused the bytes: BadStatusLine, LineTooLong, ...
            self.fail(exc)

    def _take_answer(self, parser: ResponseParser, data: bytes) -> bytes:
        """Parse ``data`` while the answer's head is awaited; returns what is left to feed.

        The common case, the whole answer in the packet that starts it, is fed in one piece;
        the bytes after the answer's announced length are counted. If the parser refuses the
        packet (stray bytes after a complete answer) or the head spans packets, the answer's
        bytes are parsed again with a fresh parser, head by head (``_feed_heads``)."""
        started = self._head_start
        if started is not None:
            self._head_start = None
            return self._feed_heads(
                self.new_response_parser(for_head=self._for_head), started + data
            )
        try:
            messages, _, _ = parser.feed_data(data)
        except Exception:
            return self._feed_heads(self.new_response_parser(for_head=self._for_head), data)
        for message, body in messages:
            self._on_message(message, body)
        if self._answer is not None:
            self._head_start = data  # no final head yet: parsed again with the next packet
        elif self._body_left >= 0:
            if messages[0][0].code >= 200:  # the head is where the packet starts
                self._body_left -= len(data) - head_end(data)
                if self._body_left < 0:
                    self.should_close = True  # bytes after a complete answer
                    self._body_left = 0
            else:  # after a 1xx the final head's start is not known: stray bytes, if any,
                self._body_left = -1  # make the next answer's parse fail, then it is parsed again
        return b""

    def _feed_heads(self, parser: ResponseParser, data: bytes) -> bytes:
        """Feed a fresh ``parser`` the answer's bytes (all of them, from its first) up to the
        end of each head (1xx ones, then the final one) and return what follows the final
        head: the parser never sees a body and the bytes after it in one piece, so it cannot
        mistake stray bytes for part of the answer."""
        while self._answer is not None:
            end = head_end(data)
            if end < 0:
                parser.feed_data(data)  # an incomplete head: refused now if it is garbage
                self._head_start = data
                return b""
            messages, _, _ = parser.feed_data(data[:end])
            data = data[end:]
            for message, body in messages:
                self._on_message(message, body)
        return data

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = self.should_close = True
        self._timer.cancel()
        body, self._body = self._body, None
        parser = self.parser
        if body is not None and parser is not None:
            try:
                parser.feed_eof()  # ends a read-until-close body; raises for a short one
            except Exception as short:
                body.set_exception(aiohttp.ClientPayloadError(f"the body is incomplete: {short!r}"))
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            answer.set_exception(h1_answer.lost_before_answer(exc))
        super().connection_lost(exc)

    def pause_reading(self) -> None:
        super().pause_reading()
        self._timer.stop()  # the reader is full: the wait is our client's doing, not the upstream's

    def resume_reading(self, resume_parser: bool = True) -> None:
        # A body reader calls this after every read; only a real pause has anything to undo.
        if self.reading_paused:
            super().resume_reading(resume_parser)
            if self._body is not None:
                self._timer.arm()

    # -- internals ---------------------------------------------------------------------

    def _on_message(self, message: RawResponseMessage, body: StreamReader) -> None:
        code = message.code
        if 100 <= code < 200 and code != 101:
            return  # interim answer (100 Continue, 103 Early Hints): the final one follows
        answer, self._answer = self._answer, None
        if answer is None or answer.done():
            self.should_close = True  # an answer nobody asked for: never reuse this connection
            return
        problem = h1_answer.refusal(message)
        if problem is not None:
            self._answer = answer
            raise HttpProcessingError(message=problem)
        if message.chunked:
            self._renew_parser = True  # its trailers must not reach the next answer
        if message.should_close:
            self.should_close = True
        self._body_left = h1_answer.body_length(message, self._for_head)
        if code in NO_BODY_STATUSES or body is EMPTY_PAYLOAD or body.is_eof():
            self._timer.stop()
        else:
            self._body = body
            body.on_eof(self._body_done)
        answer.set_result((message, EMPTY_PAYLOAD if code in NO_BODY_STATUSES else body))

    def _body_done(self) -> None:
        self._body = None
        self._timer.stop()

    def _on_silence(self) -> None:
        self.fail(aiohttp.SocketTimeoutError("the upstream stopped sending"))
