"""What an upstream answer's head must satisfy before its body is relayed (RFC 9112), and the
errors a failed exchange raises: aiohttp's client exceptions, so callers see what
``ClientSession`` raised (``ServerDisconnectedError`` / ``ClientOSError`` when the connection
dies before an answer, ``SocketTimeoutError`` when the upstream goes quiet for
``read_timeout``, ``ClientPayloadError`` for a broken body, ``HttpProcessingError`` for garbage).

- ``101`` is never asked for (the gateway forwards no ``Upgrade``, and RFC 9110 §7.8 forbids
  switching to a protocol the request did not name), so one is refused (502).
- Transfer codings are hop-by-hop: the parser removes ``chunked``; any other coding (``gzip,
  chunked``) would reach the client as coded bytes with no header saying so, so the answer
  is refused, as nginx's proxy module refuses it ("upstream sent unknown
  Transfer-Encoding": an invalid header, 502).
"""

from __future__ import annotations

import ssl

import aiohttp

from gateway.http.aiohttp_shim import RawResponseMessage

NO_BODY_STATUSES = frozenset({204, 304})


def refusal(message: RawResponseMessage) -> str | None:
    """Why a final (non-1xx) answer head cannot be relayed, or None."""
    if message.code == 101:
        return "the upstream switched protocols unasked (101)"
    if message.chunked:
        if _codings(message) != "chunked":
            return "the upstream used an unknown transfer coding"
    elif "Transfer-Encoding" in message.headers:
        return "the upstream used an unknown transfer coding"
    return None


def body_length(message: RawResponseMessage, for_head: bool) -> int:
    """The body bytes the answer announces; -1 when chunked or read until close."""
    if message.code in NO_BODY_STATUSES or for_head:
        return 0
    if not message.chunked and (length := message.headers.get("Content-Length")):
        return int(length)  # llhttp has checked it is a number
    return -1


def head_end(data: bytes) -> int:
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


def lost_before_answer(exc: BaseException | None) -> BaseException:
    """What the waiter for an answer gets when the connection closed first."""
    if exc is None:
        return aiohttp.ServerDisconnectedError()
    if isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError):
        return aiohttp.ClientOSError(*exc.args)
    return exc  # a TLS failure stays one


def broken_body(exc: BaseException) -> BaseException:
    """What the reader of a body gets when the exchange failed with ``exc`` midway."""
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerTimeoutError):
        return exc
    return aiohttp.ClientPayloadError(f"the upstream body broke off: {exc!r}")
