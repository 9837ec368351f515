"""Sealed, expiring tokens for the URLs the gateway hands out (``/_gateway/...``).

A token seals one action: the HTTP method it may be used with, a target (what it acts on), an
expiry and a small JSON payload, encrypted and authenticated with AES-256-GCM (``cryptography``)
so nobody can read or alter it::

    token = base64url( format 0x02 | key id (4) | nonce (12) | AES-GCM ciphertext + tag (16) )
    AES-GCM key = HKDF-SHA256(secret, info="kinvey-gateway url token key v2", 32 bytes)
    key id      = HKDF-SHA256(secret, info="kinvey-gateway url token key id v2", 4 bytes)
    associated data = format | key id;   plaintext = JSON [method, target, expires_at, data]

Keys are derived from the configured secrets, so replicas that share a secret share its key
and key id. The key id lets the secret be rotated: the current secret seals, and any previous
secret still opens the URLs it sealed until they expire (keep it configured for one URL
lifetime after a rotation). Nonces are random (96 bits): sealing the same action twice gives
unrelated tokens. A forged, altered, truncated or unknown-key token is refused without a hint
of why; an authentic one is refused when expired or used with another method. Pure: no I/O
besides the random nonce.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT = b"\x02"
KEY_ID_BYTES = 4
NONCE_BYTES = 12
TAG_BYTES = 16
_HEADER_BYTES = len(FORMAT) + KEY_ID_BYTES + NONCE_BYTES
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


def _derive(secret: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


def key_id_of(secret: bytes) -> bytes:
    return _derive(secret, b"kinvey-gateway url token key id v2", KEY_ID_BYTES)


def aead_of(secret: bytes) -> AESGCM:
    return AESGCM(_derive(secret, b"kinvey-gateway url token key v2", 32))


class UrlSigner:
    """Seals with ``secret``; opens what ``secret`` or any of ``previous`` sealed."""

    def __init__(
        self,
        secret: bytes,
        ttl_seconds: float,
        clock: Callable[[], float] = time.time,
        previous: Iterable[bytes] = (),
        nonces: Callable[[], bytes] = lambda: os.urandom(NONCE_BYTES),
    ) -> None:
        secrets = list(dict.fromkeys([secret, *previous]))  # the current one first, once
        if not all(secrets):
            raise ValueError("a URL signing secret must not be empty")
        self._keys: dict[bytes, AESGCM] = {}
        for one in secrets:
            key_id = key_id_of(one)
            if key_id in self._keys:
                raise ValueError("two URL signing secrets share a key id; choose another secret")
            self._keys[key_id] = aead_of(one)
        self._key_id = key_id_of(secret)
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._nonces = nonces

    def seal(self, method: str, target: str, data: Mapping[str, Any] | None = None) -> str:
        """A token allowing ``method`` on ``target`` until now + ttl; ``data`` stays secret."""
        expires_at = math.ceil(self._clock() + self.ttl_seconds)
        plaintext = json.dumps(
            [method.upper(), target, expires_at, dict(data or {})],
            separators=(",", ":"),
        ).encode()
        nonce = self._nonces()
        if len(nonce) != NONCE_BYTES:
            raise ValueError("an AES-GCM nonce is 12 bytes")
        header = FORMAT + self._key_id + nonce
        sealed = self._keys[self._key_id].encrypt(nonce, plaintext, header[:-NONCE_BYTES])
        return _encode(header + sealed)

    def open(self, token: str, method: str) -> SealedAction:
        """The sealed action, if ``token`` is authentic, unexpired and meant for ``method``."""
        raw = _decode(token)
        key_id, nonce = raw[1 : 1 + KEY_ID_BYTES], raw[1 + KEY_ID_BYTES : _HEADER_BYTES]
        aead = self._keys.get(key_id)
        if raw[:1] != FORMAT or aead is None:
            raise SignatureRefused("invalid")
        try:
            plaintext = aead.decrypt(nonce, raw[_HEADER_BYTES:], raw[: 1 + KEY_ID_BYTES])
        except InvalidTag:
            raise SignatureRefused("invalid") from None
        action = _parse(plaintext)
        if self._clock() >= action.expires_at:
            raise SignatureRefused("expired")
        if action.method != method.upper():
            raise SignatureRefused("wrong_method")
        return action


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
    if len(raw) <= _HEADER_BYTES + TAG_BYTES or _encode(raw) != token:
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
