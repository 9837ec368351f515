"""One keep-alive HTTP/1.1 connection to the upstream, parsed by aiohttp's C parser.

The request head (and a buffered body) go out in one write; the answer is parsed by aiohttp's
llhttp response parser (through ``aiohttp_shim``) and its body is handed on as the
``StreamReader`` that parser fills, with the same flow control (a full reader pauses the
socket). Errors are aiohttp's client exceptions, so callers see what ``ClientSession`` raised:
``ServerDisconnectedError`` / ``ClientOSError`` when the connection dies before an answer,
``SocketTimeoutError`` when the upstream goes quiet for ``read_timeout``,
``ClientPayloadError`` for a broken body, ``HttpProcessingError`` for garbage.

What a proxy must get right about the answer (RFC 9112, and what nginx and Envoy do):

- 1xx interim answers are consumed and the final one follows. ``100`` is the gateway's to
  send (it answers a client's ``Expect: 100-continue`` itself and forwards no ``Expect``, see
  ``http/expect.py``); ``102``/``103`` are not forwarded either, a
  deliberate departure from RFC 9110 §15.2: the gateway's clients are old Kinvey SDKs that
  predate 103 Early Hints, and an interim answer they do not expect could end their request.
- ``101`` is never asked for (the gateway forwards no ``Upgrade``, and RFC 9110 §7.8 forbids
  switching to a protocol the request did not name), so one is refused (502).
- Transfer codings are hop-by-hop: the parser removes ``chunked``; any other coding (``gzip,
  chunked``) would reach the client as coded bytes with no header saying so, so the answer
  is refused, as nginx's proxy module refuses it ("upstream sent unknown
  Transfer-Encoding": an invalid header, 502).
- The parser gets an answer head on its own, then at most the body length announced, so
  bytes after a complete answer (a buggy upstream) cannot spoil it: the answer is delivered
  and the connection is dropped.
- Trailer fields are never headers of the next answer: aiohttp's parser keeps the last
  trailer field pending into its next message, so a connection whose answer was chunked
  gets a fresh parser for the next one.

The read timeout is a lazy timer: data only records the time, and a timer that fires early
re-arms itself for the remaining time; one that fires while nothing is owed does nothing. So
a busy connection creates about one timer per ``read_timeout``, not one per request.
"""

from __future__ import annotations

import asyncio
import ssl

import aiohttp

from gateway.http.aiohttp_shim import (
    EMPTY_PAYLOAD,
    HttpProcessingError,
    ParsingProtocol,
    RawResponseMessage,
    ResponseParser,
    StreamReader,
)

_NO_BODY_STATUSES = frozenset({204, 304})

Answer = tuple[RawResponseMessage, StreamReader]


class UpstreamConnection(ParsingProtocol):
    """Protocol for one upstream connection; one exchange at a time (no pipelining)."""

    __slots__ = (
        "_answer",
        "_body",
        "_body_left",
        "_for_head",
        "_head_start",
        "_last_read",
        "_read_timeout",
        "_renew_parser",
        "_timer",
        "_waiting",
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
        self._read_timeout = read_timeout
        self._answer: asyncio.Future[Answer] | None = None
        self._body: StreamReader | None = None  # the body still being received
        self._body_left = -1  # body bytes the answer still announces; -1: chunked or until close
        self._head_start: bytes | None = None  # the bytes so far of an unfinished answer head
        self._for_head = False
        self._renew_parser = False
        self._timer: asyncio.TimerHandle | None = None
        self._waiting = False  # the upstream owes us bytes: its silence counts
        self._last_read = 0.0

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
            self._arm_timer()

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
        if self._waiting:
            self._last_read = self._loop.time()
        elif data and not self.reading_paused:
            self._arm_timer()  # an early answer, before our request body was all sent
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
                self._body_left -= len(data) - _head_end(data)
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
            end = _head_end(data)
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
        self._cancel_timer()
        body, self._body = self._body, None
        parser = self.parser
        if body is not None and parser is not None:
            try:
                parser.feed_eof()  # ends a read-until-close body; raises for a short one
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
        if self.reading_paused:
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
        if code == 101:
            self._answer = answer
            raise HttpProcessingError(message="the upstream switched protocols unasked (101)")
        if message.chunked:
            self._renew_parser = True  # its trailers must not reach the next answer
            if _codings(message) != "chunked":
                self._answer = answer
                raise HttpProcessingError(message="the upstream used an unknown transfer coding")
        elif "Transfer-Encoding" in message.headers:
            self._answer = answer
            raise HttpProcessingError(message="the upstream used an unknown transfer coding")
        if message.should_close:
            self.should_close = True
        if code in _NO_BODY_STATUSES or self._for_head:
            self._body_left = 0
        elif not message.chunked and (length := message.headers.get("Content-Length")):
            self._body_left = int(length)  # llhttp has checked it is a number
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


def _head_end(data: bytes) -> int:
    """Where the first answer head in ``data`` ends (after its blank line), or -1. llhttp
    accepts bare LF line ends from an upstream (lenient mode), so a blank line is either."""
    crlf = data.find(b"\r\n\r\n")
    lf = data.find(b"\n\n", 0, len(data) if crlf < 0 else crlf)
    if lf >= 0:
        return lf + 2
    return crlf + 4 if crlf >= 0 else -1


def _codings(message: RawResponseMessage) -> str:
    """The transfer codings named, lower case, without spaces: ``chunked`` or ``gzip,chunked``."""
    return ",".join(message.headers.getall("Transfer-Encoding", ())).replace(" ", "").lower()
