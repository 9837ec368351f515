"""gateway.kinvey.signing: sealed gateway-URL tokens are secret, authentic, bound, expiring and
survive a rotation of the signing secret; the token format is pinned by known answers."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from gateway.kinvey.signing import MAX_TOKEN_CHARS, SignatureRefused, UrlSigner

SECRET = b"test-url-signing-secret"
PAYLOAD = {"path": "/blob/kid/a.png", "v": 0}

KAT_SECRET = b"known-answer-secret"
KAT_NONCE = bytes(range(12))
KAT_DATA = {"app": "kid", "name": "a.png", "path": "/blob/kid/a.png", "v": 0}
KAT_TOKEN = (
    "AgRdhQkAAQIDBAUGBwgJCguprSGcs0JBYgJ5BZuqt0sifQ4pWeC0brw8aE4CumNpctinkprVh7p-M7gWiwTvMcfOPU-"
    "kuF89pVySvoacoBJ-9mHg8IJAXwSgqpssvMk2tucMwiPXyIlHlPg24whkQV8Mgi-HzkpW0OpUnCTOeVoI3g"
)
# Sealed by the same secret with nonce 100..111: decoding it must keep working as the code changes.
KAT_UPLOAD_TOKEN = (
    "AgRdhQlkZWZnaGlqa2xtbm8M98YraWLRBsDEUHI2WOPR0ASyenNiJbwjGg0OIWvwk3EvuH3x"
    "KXfPKS6gJDaF_VgYcScbgPM"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _signer(
    clock: Clock | None = None,
    secret: bytes = SECRET,
    ttl: float = 60,
    previous: tuple[bytes, ...] = (),
) -> UrlSigner:
    return UrlSigner(secret, ttl, clock or Clock(), previous)


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hkdf(secret: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


def test_known_answer_a_fixed_key_and_nonce_seal_to_fixed_bytes() -> None:
    signer = UrlSigner(KAT_SECRET, 60, Clock(), nonces=lambda: KAT_NONCE)
    assert signer.seal("DELETE", "remove:kid/a.png", KAT_DATA) == KAT_TOKEN


def test_known_answer_the_token_layout_is_the_documented_one() -> None:
    """Decrypted here with the documented derivation, not with the module's own code."""
    raw = _raw(KAT_TOKEN)
    key_id = _hkdf(KAT_SECRET, b"kinvey-gateway url token key id v2", 4)
    assert raw[:1] == b"\x02" and raw[1:5] == key_id == bytes.fromhex("045d8509")
    assert raw[5:17] == KAT_NONCE
    key = _hkdf(KAT_SECRET, b"kinvey-gateway url token key v2", 32)
    plaintext = AESGCM(key).decrypt(KAT_NONCE, raw[17:], raw[:5])
    assert json.loads(plaintext) == ["DELETE", "remove:kid/a.png", 1_000_060, KAT_DATA]
    assert len(raw) == 17 + len(plaintext) + 16  # a 16-byte GCM tag


def test_known_answer_a_fixed_token_opens_to_its_action() -> None:
    signer = UrlSigner(KAT_SECRET, 60, Clock())
    action = signer.open(KAT_UPLOAD_TOKEN, "PUT")
    assert (action.method, action.target, action.expires_at) == ("PUT", "upload:kid/b", 1_000_060)
    assert action.data == {"v": 2}


def test_a_sealed_action_opens_with_its_method() -> None:
    signer = _signer()
    token = signer.seal("DELETE", "kid/file.png", PAYLOAD)
    action = signer.open(token, "delete")
    assert (action.method, action.target) == ("DELETE", "kid/file.png")
    assert action.data == PAYLOAD
    assert action.expires_at == 1_000_060


def test_the_token_is_url_safe_and_hides_its_payload() -> None:
    token = _signer().seal("PUT", "kid/secret-name.png", PAYLOAD)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    raw = _raw(token)
    for hidden in ("secret-name", "kid/", "PUT", "/blob/kid/a.png", "path"):
        assert hidden.encode() not in raw
        assert hidden not in token


def test_sealing_the_same_action_twice_gives_unrelated_tokens() -> None:
    signer = _signer()
    first, second = signer.seal("PUT", "t", {"a": 1}), signer.seal("PUT", "t", {"a": 1})
    assert first != second
    assert _raw(first)[5:17] != _raw(second)[5:17]  # fresh nonces


def test_urls_sealed_before_a_rotation_open_until_they_expire() -> None:
    clock = Clock()
    before = _signer(clock, secret=b"old secret", ttl=30).seal("DELETE", "kid/f", PAYLOAD)
    rotated = _signer(clock, secret=b"new secret", ttl=30, previous=(b"old secret",))
    assert rotated.open(before, "DELETE").data == PAYLOAD
    after = rotated.seal("DELETE", "kid/f", PAYLOAD)
    assert _raw(after)[1:5] != _raw(before)[1:5]  # sealed with the new key, under its own id
    with pytest.raises(SignatureRefused) as refused:
        _signer(clock, secret=b"old secret").open(after, "DELETE")  # new URLs: new key only
    assert refused.value.reason == "invalid"
    with pytest.raises(SignatureRefused) as refused:
        _signer(clock, secret=b"new secret").open(before, "DELETE")  # old key dropped
    assert refused.value.reason == "invalid"
    clock.now += 30
    with pytest.raises(SignatureRefused) as refused:
        rotated.open(before, "DELETE")
    assert refused.value.reason == "expired"


def test_an_unknown_key_id_is_refused_even_with_a_valid_tag_for_another_key() -> None:
    token = _signer(secret=b"old secret").seal("DELETE", "kid/f")
    raw = bytearray(_raw(token))
    raw[1:5] = _raw(_signer().seal("DELETE", "kid/f"))[1:5]  # claim the current key's id
    with pytest.raises(SignatureRefused):
        _signer(previous=(b"old secret",)).open(_token(bytes(raw)), "DELETE")


def test_a_nonce_must_be_96_bits() -> None:
    with pytest.raises(ValueError, match="12 bytes"):
        UrlSigner(SECRET, 60, nonces=lambda: b"short").seal("PUT", "t")


def test_every_altered_byte_is_refused() -> None:
    signer = _signer()
    raw = _raw(signer.seal("DELETE", "kid/f", PAYLOAD))
    for index in range(len(raw)):
        for bit in (0x01, 0x80):
            altered = bytearray(raw)
            altered[index] ^= bit
            with pytest.raises(SignatureRefused) as refused:
                signer.open(_token(bytes(altered)), "DELETE")
            assert refused.value.reason == "invalid"


def test_truncated_extended_or_respelled_tokens_are_refused() -> None:
    signer = _signer()
    token = signer.seal("DELETE", "kid/f")
    for bad in (
        token[:-1],
        token + "A",
        token[:10],
        "!" + token,
        token + "=",
        token + "\n",
        token.replace(token[5], "*", 1),
    ):
        with pytest.raises(SignatureRefused):
            signer.open(bad, "DELETE")


@pytest.mark.parametrize(
    "garbage", ["", "a", "%%%", "é" * 80, "A" * 64, "A" * (MAX_TOKEN_CHARS + 4)]
)
def test_garbage_is_refused_as_invalid(garbage: str) -> None:
    with pytest.raises(SignatureRefused) as refused:
        _signer().open(garbage, "GET")
    assert refused.value.reason == "invalid"


def test_another_secret_cannot_open_or_forge_tokens() -> None:
    token = _signer(secret=b"other secret").seal("DELETE", "kid/f", PAYLOAD)
    with pytest.raises(SignatureRefused) as refused:
        _signer().open(token, "DELETE")
    assert refused.value.reason == "invalid"


def test_a_token_is_bound_to_its_method() -> None:
    signer = _signer()
    token = signer.seal("PUT", "kid/f")
    for method in ("GET", "DELETE", "POST", "HEAD"):
        with pytest.raises(SignatureRefused) as refused:
            signer.open(token, method)
        assert refused.value.reason == "wrong_method"


def test_a_token_expires_after_its_ttl() -> None:
    clock = Clock()
    signer = _signer(clock, ttl=30)
    token = signer.seal("PUT", "kid/f")
    clock.now += 29
    assert signer.open(token, "PUT").target == "kid/f"
    clock.now += 1
    with pytest.raises(SignatureRefused) as refused:
        signer.open(token, "PUT")
    assert refused.value.reason == "expired"


def test_an_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="secret"):
        UrlSigner(b"", 60)
    with pytest.raises(ValueError, match="secret"):
        UrlSigner(SECRET, 60, previous=[b""])


@given(
    method=st.sampled_from(["GET", "PUT", "DELETE"]),
    target=st.text(max_size=200),
    data=st.dictionaries(st.text(max_size=20), st.text(max_size=300) | st.integers(), max_size=5),
)
def test_any_payload_round_trips(method: str, target: str, data: dict[str, object]) -> None:
    signer = _signer()
    action = signer.open(signer.seal(method, target, data), method)
    assert (action.method, action.target, dict(action.data)) == (method, target, data)
