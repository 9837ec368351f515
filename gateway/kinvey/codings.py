"""Content codings the gateway can undo, with the decoded size bounded as it is produced.

Only bodies a version change must read are decoded, once, here; pass-through relays the
bytes and their ``Content-Encoding`` unchanged. ``gzip`` (several members too) and
``deflate`` (zlib-wrapped or raw) are decoded, stacked codings in reverse order of listing;
any other coding (``br``, ``zstd``, ``compress``) is refused rather than guessed at.

Decompression asks zlib for at most the bytes still allowed (plus one, to notice overflow),
so a bomb (a 400-byte body that inflates to gigabytes, or the same gzipped twice) never makes
the gateway allocate more than ``limit`` bytes of output per layer.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

DECODABLE = frozenset({"gzip", "x-gzip", "deflate"})
_IDENTITY = frozenset({"", "identity"})
_OFFERED = DECODABLE | {"identity"}
_STEP = 256 * 1024  # decoded bytes per zlib call: each step is charged before the next


class CodingError(ValueError):
    """The body does not decode as its ``Content-Encoding`` says."""


class UnsupportedCoding(CodingError):
    """A content coding the gateway does not decode (the client should send identity)."""


class DecodedTooLarge(CodingError):
    """The decoded body would be larger than the limit."""


def codings(content_encoding: str | None) -> list[str]:
    """The codings applied, in the order they were applied, identity left out."""
    if not content_encoding:
        return []
    listed = (token.strip().lower() for token in content_encoding.split(","))
    return [token for token in listed if token not in _IDENTITY]


def check_decodable(content_encoding: str | None) -> None:
    """Raise ``UnsupportedCoding`` before any byte is read if a coding cannot be undone."""
    for coding in codings(content_encoding):
        _require_decodable(coding)


def _require_decodable(coding: str) -> None:
    if coding not in DECODABLE:
        raise UnsupportedCoding(f"unsupported Content-Encoding {coding!r}")


def decode(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """``body`` with its content codings undone; at most ``limit`` bytes per layer."""
    if not body:
        return body
    for coding in reversed(codings(content_encoding)):
        body = b"".join(inflate(body, coding, limit))
    return body


def inflate(data: bytes, coding: str, limit: int) -> Iterator[bytes]:
    """One coding undone, in pieces of at most 256 kB: a caller can charge each piece to a
    budget, or let other work run between them, before the next is produced."""
    _require_decodable(coding)
    if coding == "deflate":
        # zlib-wrapped as RFC 9110 says, or raw deflate as some senders send it.
        wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
        wbits, several = (zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS), False
    else:
        wbits, several = 16 + zlib.MAX_WBITS, True  # gzip: one member or several
    try:
        yield from _members(data, wbits, limit, several)
    except zlib.error as exc:
        raise CodingError(f"cannot decode the {coding} body: {exc}") from None


def _members(data: bytes, wbits: int, limit: int, several: bool) -> Iterator[bytes]:
    size = 0
    while True:
        inflater = zlib.decompressobj(wbits)
        pending = data
        while True:
            piece = inflater.decompress(pending, min(_STEP, limit - size + 1))
            size += len(piece)
            if size > limit:
                raise DecodedTooLarge(f"the decoded body is larger than {limit} bytes")
            if piece:
                yield piece
            pending = inflater.unconsumed_tail
            if inflater.eof or not (pending or piece):
                break
        if not inflater.eof:
            raise CodingError("the compressed body is truncated")
        data = inflater.unused_data
        if not (several and data):
            return


def offer_decodable(accept_encoding: str) -> str:
    """An ``Accept-Encoding`` naming only the codings ``decode`` undoes (``br`` dropped), so
    an answer a version change must read never arrives in a coding it cannot read."""
    kept = [
        token.strip()
        for token in accept_encoding.split(",")
        if token.partition(";")[0].strip().lower() in _OFFERED
    ]
    return ", ".join(kept) or "identity"
