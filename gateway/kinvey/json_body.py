"""JSON bodies the gateway must read: parse and encode back.

Only bodies a version change needs go through here; everything else is relayed as bytes.
Bodies arrive here already decoded (``codings.decode``, bounded); ``content_encoding`` is for
the few callers that hold a body still coded. Nesting needs no check of its own: ``json.loads``
raises ``RecursionError`` on a body nested past the interpreter's limit, answered as invalid
JSON like any other.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.kinvey.codings import CodingError, decode

# Bound for a body decoded here rather than by the request handler (an error body of the
# upstream's that a v0 client needs in its own shape): the default buffered-body limit.
DEFAULT_DECODED_LIMIT = 10 * 1024 * 1024


class BodyDecodeError(ValueError):
    """The body is not JSON the gateway can read (bad bytes, coding or nesting)."""


_BOM = b"\xef\xbb\xbf"


def decode_json(
    body: bytes, content_encoding: str | None = None, limit: int = DEFAULT_DECODED_LIMIT
) -> Any:
    if content_encoding is None:
        raw = body
    else:
        try:
            raw = decode(body, content_encoding, limit)
        except CodingError as exc:
            raise BodyDecodeError(str(exc)) from None
    if not raw.strip():
        return None
    try:
        # As "utf-8-sig" (one leading BOM dropped), without that codec's Python wrapper.
        text = (raw[3:] if raw.startswith(_BOM) else raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyDecodeError(f"body is not UTF-8: {exc.reason}") from None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BodyDecodeError(f"invalid JSON: {exc}") from None


def encode_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
