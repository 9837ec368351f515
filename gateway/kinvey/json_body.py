"""JSON bodies the gateway must read: undo Content-Encoding, parse, and encode back.

Only bodies a version change needs go through here; everything else is relayed as bytes.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024
MAX_NESTING = 200


class BodyDecodeError(ValueError):
    """The body is not JSON the gateway can read (bad bytes, encoding or nesting)."""


def decompress(body: bytes, content_encoding: str | None) -> bytes:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in {"identity", ""}:
        return body
    if encoding in {"gzip", "x-gzip", "deflate"}:
        wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        try:
            inflater = zlib.decompressobj(wbits)
            out = inflater.decompress(body, MAX_DECOMPRESSED_BYTES)
        except zlib.error:
            try:  # some servers send raw deflate without the zlib header
                out = zlib.decompressobj(-zlib.MAX_WBITS).decompress(body, MAX_DECOMPRESSED_BYTES)
            except zlib.error as exc:
                raise BodyDecodeError(f"cannot decompress {encoding} body: {exc}") from None
        if inflater.unconsumed_tail:
            raise BodyDecodeError("decompressed body is too large")
        return out
    raise BodyDecodeError(f"unsupported Content-Encoding {encoding!r}")


def _nesting_ok(text: str) -> bool:
    # json.loads recurses; cap depth before parsing so a hostile body cannot blow the stack.
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                return False
        elif ch in "]}":
            depth -= 1
    return True


_BOM = b"\xef\xbb\xbf"


def decode_json(body: bytes, content_encoding: str | None = None) -> Any:
    raw = body if content_encoding is None else decompress(body, content_encoding)
    if not raw.strip():
        return None
    try:
        # As "utf-8-sig" (one leading BOM dropped), without that codec's Python wrapper.
        text = (raw[3:] if raw.startswith(_BOM) else raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyDecodeError(f"body is not UTF-8: {exc.reason}") from None
    # Counting brackets is C-fast; only a body with that many walks the slow depth check.
    if text.count("[") + text.count("{") > MAX_NESTING and not _nesting_ok(text):
        raise BodyDecodeError(f"JSON nested deeper than {MAX_NESTING} levels")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BodyDecodeError(f"invalid JSON: {exc}") from None


def encode_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
