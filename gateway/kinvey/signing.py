"""Signed, encrypted, expiring tokens for the URLs the gateway hands out (``/_gateway/...``).

A token seals one action: the HTTP method it may be used with, a target (what it acts on),
an expiry and a small JSON payload. Payloads can be sensitive (a client's Authorization
header, a storage upload URL), so they are encrypted, not only signed, with the standard
library alone:

    token = base64url( format byte | nonce (16) | ciphertext | tag (32) )
    ciphertext = plaintext XOR HMAC-SHA256(enc_key, nonce | counter) blocks   (CTR keystream)
    tag = HMAC-SHA256(mac_key, format byte | nonce | ciphertext)             (encrypt-then-MAC)

``enc_key`` and ``mac_key`` are derived from the configured secret with HMAC, so one secret
serves both without reuse. The nonce is random per token, so sealing the same action twice
gives unrelated tokens. ``open`` checks the tag (constant time) before anything else is read:
a forged or altered token is refused without a hint of why; an authentic one is refused when
expired or used with another method. Pure: no I/O besides ``os.urandom``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

_FORMAT = b"\x01"
_NONCE_BYTES = 16
_TAG_BYTES = 32
_BLOCK = hashlib.sha256().digest_size
MAX_TOKEN_CHARS = 16384  # the default request-line limit; bounds the work a hostile token costs

RefusalReason = Literal["invalid", "expired", "wrong_method"]


class SignatureRefused(Exception):
    """The token is not one of ours, was altered, has expired or is used wrongly."""

    def __init__(self, reason: RefusalReason) -> None:
        super().__init__(reason)
        self.reason: RefusalReason = reason


@dataclass(frozen=True, slots=True)
class SealedAction:
    method: str
    target: str
    expires_at: int
    data: Mapping[str, Any]


class UrlSigner:
    def __init__(
        self,
        secret: bytes,
        ttl_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("the URL signing secret must not be empty")
        self._enc_key = hmac.digest(secret, b"kinvey-gateway url encryption key", "sha256")
        self._mac_key = hmac.digest(secret, b"kinvey-gateway url authentication key", "sha256")
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def seal(self, method: str, target: str, data: Mapping[str, Any] | None = None) -> str:
        """A token allowing ``method`` on ``target`` until now + ttl; ``data`` stays secret."""
        expires_at = math.ceil(self._clock() + self.ttl_seconds)
        plaintext = json.dumps(
            [method.upper(), target, expires_at, dict(data or {})],
            separators=(",", ":"),
        ).encode()
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = _xor(plaintext, self._keystream(nonce, len(plaintext)))
        tag = self._tag(nonce, ciphertext)
        return _encode(_FORMAT + nonce + ciphertext + tag)

    def open(self, token: str, method: str) -> SealedAction:
        """The sealed action, if ``token`` is authentic, unexpired and meant for ``method``."""
        raw = _decode(token)
        nonce = raw[1 : 1 + _NONCE_BYTES]
        ciphertext, tag = raw[1 + _NONCE_BYTES : -_TAG_BYTES], raw[-_TAG_BYTES:]
        if raw[:1] != _FORMAT or not hmac.compare_digest(tag, self._tag(nonce, ciphertext)):
            raise SignatureRefused("invalid")
        action = _parse(_xor(ciphertext, self._keystream(nonce, len(ciphertext))))
        if self._clock() >= action.expires_at:
            raise SignatureRefused("expired")
        if action.method != method.upper():
            raise SignatureRefused("wrong_method")
        return action

    def _keystream(self, nonce: bytes, length: int) -> bytes:
        blocks = (
            hmac.digest(self._enc_key, nonce + counter.to_bytes(4, "big"), "sha256")
            for counter in range(-(-length // _BLOCK))
        )
        return b"".join(blocks)[:length]

    def _tag(self, nonce: bytes, ciphertext: bytes) -> bytes:
        return hmac.digest(self._mac_key, _FORMAT + nonce + ciphertext, "sha256")


def _xor(data: bytes, keystream: bytes) -> bytes:
    size = len(data)
    mixed = int.from_bytes(data, "big") ^ int.from_bytes(keystream, "big")
    return mixed.to_bytes(size, "big")


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(token: str) -> bytes:
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise SignatureRefused("invalid")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise SignatureRefused("invalid") from None
    # The decoder skips stray characters and ignores unused trailing bits; only the one
    # canonical spelling of the bytes is ours.
    if len(raw) <= 1 + _NONCE_BYTES + _TAG_BYTES or _encode(raw) != token:
        raise SignatureRefused("invalid")
    return raw


def _parse(plaintext: bytes) -> SealedAction:
    # Only reached with an authentic tag, so a failure here means a secret shared with an
    # incompatible issuer: refuse it like any other invalid token.
    try:
        method, target, expires_at, data = json.loads(plaintext)
    except (ValueError, TypeError):
        raise SignatureRefused("invalid") from None
    valid = (
        isinstance(method, str)
        and isinstance(target, str)
        and isinstance(expires_at, int)
        and isinstance(data, dict)
    )
    if not valid:
        raise SignatureRefused("invalid")
    return SealedAction(method, target, expires_at, data)
