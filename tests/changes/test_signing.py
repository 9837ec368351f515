"""gateway.kinvey.signing: sealed gateway-URL tokens are secret, authentic, bound and expiring."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.kinvey.signing import MAX_TOKEN_CHARS, SignatureRefused, UrlSigner

SECRET = b"test-url-signing-secret"
AUTH = "Basic YWxpY2U6c2VjcmV0LXBhc3N3b3Jk"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _signer(clock: Clock | None = None, secret: bytes = SECRET, ttl: float = 60) -> UrlSigner:
    return UrlSigner(secret, ttl, clock or Clock())


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_sealed_action_opens_with_its_method() -> None:
    signer = _signer()
    token = signer.seal("DELETE", "kid/file.png", {"authorization": AUTH, "v": 0})
    action = signer.open(token, "delete")
    assert (action.method, action.target) == ("DELETE", "kid/file.png")
    assert action.data == {"authorization": AUTH, "v": 0}
    assert action.expires_at == 1_000_060


def test_the_token_is_url_safe_and_hides_its_payload() -> None:
    token = _signer().seal("PUT", "kid/secret-name.png", {"authorization": AUTH})
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    raw = _raw(token)
    for secret_text in (AUTH, "YWxpY2U6", "secret-name", "kid/", "PUT", "authorization"):
        assert secret_text.encode() not in raw
        assert secret_text not in token


def test_sealing_the_same_action_twice_gives_unrelated_tokens() -> None:
    signer = _signer()
    first, second = signer.seal("PUT", "t", {"a": 1}), signer.seal("PUT", "t", {"a": 1})
    assert first != second
    assert _raw(first)[1:17] != _raw(second)[1:17]  # fresh nonces


def test_every_altered_byte_is_refused() -> None:
    signer = _signer()
    raw = _raw(signer.seal("DELETE", "kid/f", {"authorization": AUTH}))
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
    token = _signer(secret=b"other secret").seal("DELETE", "kid/f", {"authorization": AUTH})
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


@given(
    method=st.sampled_from(["GET", "PUT", "DELETE"]),
    target=st.text(max_size=200),
    data=st.dictionaries(st.text(max_size=20), st.text(max_size=300) | st.integers(), max_size=5),
)
def test_any_payload_round_trips(method: str, target: str, data: dict[str, object]) -> None:
    signer = _signer()
    action = signer.open(signer.seal(method, target, data), method)
    assert (action.method, action.target, dict(action.data)) == (method, target, data)
