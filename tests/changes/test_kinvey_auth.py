"""Basic credential parsing, login answers, and the token cache (LRU, TTL, coalesced logins)."""

from __future__ import annotations

import asyncio

import pytest

from gateway.kinvey.auth import (
    LoginAnswer,
    TokenCache,
    basic_header,
    parse_basic,
    session_token_of,
    user_basic,
    with_authtoken,
    without_authtoken,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_basic_credentials_parse_and_app_credentials_are_not_user_credentials() -> None:
    header = basic_header("ann", "pa:ss word")
    parsed = parse_basic(header)
    assert parsed is not None and (parsed.username, parsed.password) == ("ann", "pa:ss word")
    assert "pa:ss" not in repr(parsed)
    assert parse_basic("basic " + header.split()[1]) == parsed  # the scheme in any case
    assert user_basic(header, "kid_x") == parsed
    assert user_basic(basic_header("kid_x", "secret"), "kid_x") is None
    assert user_basic(header, None) is None
    # Issue 14: an app's credentials on another app's path are still an app's credentials.
    assert user_basic(basic_header("kid_other", "secret"), "kid_x") is None
    assert user_basic(basic_header("legacy", "secret"), "kid_x", {"legacy"}) is None
    assert user_basic(basic_header("legacy", "secret"), "kid_x") is not None
    for bad in (None, "", "Basic", "Basic !!!", "Kinvey abc", "Basic " + "bm9jb2xvbg=="):
        assert parse_basic(bad) is None, bad


def test_session_tokens_are_found_in_wrapped_and_bare_login_answers() -> None:
    assert session_token_of({"mfaRequired": False, "user": {}, "authToken": "a"}) == "a"
    assert session_token_of({"user": {"_kmd": {"authtoken": "b"}}}) == "b"
    assert session_token_of({"_id": "u", "_kmd": {"authtoken": "c"}}) == "c"
    tokenless: list[object] = [{"mfaRequired": True}, {"_kmd": {}}, [], None, {"authToken": ""}]
    for answer in tokenless:
        assert session_token_of(answer) is None


def test_user_documents_get_and_lose_their_token_without_being_mutated() -> None:
    user = {"_id": "u", "_kmd": {"lmt": "t"}}
    added = with_authtoken(user, "tok")
    assert added == {"_id": "u", "_kmd": {"lmt": "t", "authtoken": "tok"}}
    assert user == {"_id": "u", "_kmd": {"lmt": "t"}}
    assert without_authtoken(added) == user and "authtoken" in added["_kmd"]
    assert without_authtoken(user) is user


def test_keys_are_keyed_hashes_that_separate_every_credential_pair() -> None:
    cache = TokenCache(10, 60)
    key = cache.key("app", "ann", "secret-password")
    assert key == cache.key("app", "ann", "secret-password")
    assert b"secret-password" not in key and len(key) == 64  # user digest + pair digest
    others = {
        cache.key("app", "ann", "secret-passwore"),
        cache.key("app", "anna", "secret-password"),
        cache.key("app2", "ann", "secret-password"),
        cache.key("app", "annsecret-", "password"),
    }
    assert key not in others and len(others) == 4
    assert cache.key("a", "bc", "") != cache.key("ab", "c", "")
    assert TokenCache(10, 60).key("app", "ann", "secret-password") != key  # per-process key


def test_entries_expire_and_the_least_recently_used_go_first() -> None:
    clock = Clock()
    cache = TokenCache(2, 60, clock)
    cache.store(b"a", "ta")
    cache.store(b"b", "tb")
    assert cache.cached(b"a") == "ta"  # a is now the most recently used
    cache.store(b"c", "tc")
    assert (cache.cached(b"a"), cache.cached(b"b"), cache.cached(b"c")) == ("ta", None, "tc")
    clock.now += 59.0
    assert cache.cached(b"a") == "ta"
    clock.now += 1.0
    assert cache.cached(b"a") is None and len(cache) == 1


def test_forget_drops_only_the_refused_token() -> None:
    cache = TokenCache(10, 60)
    cache.store(b"k", "new")
    cache.forget(b"k", "old")  # a late 401 for a token already replaced
    assert cache.cached(b"k") == "new"
    cache.forget(b"k", "new")
    assert cache.cached(b"k") is None


def test_discard_user_drops_every_password_of_that_user_only() -> None:
    cache = TokenCache(10, 60)
    old, older, other = (
        cache.key("kid", "ada", "pw1"),
        cache.key("kid", "ada", "pw0"),
        cache.key("kid", "bob", "pw1"),
    )
    for key, token in ((old, "t1"), (older, "t0"), (other, "tb")):
        cache.store(key, token)
    assert cache.discard_user("kid", "ada") == 2
    assert (cache.cached(old), cache.cached(older), cache.cached(other)) == (None, None, "tb")
    assert cache.discard_user("kid2", "bob") == 0  # another app's user of the same name


async def test_concurrent_logins_with_one_credential_pair_share_one_login() -> None:
    cache = TokenCache(10, 60)
    release = asyncio.Event()
    logins: list[int] = []

    async def login() -> LoginAnswer:
        logins.append(1)
        await release.wait()
        return LoginAnswer("ok", f"token-{len(logins)}")

    waiters = [asyncio.ensure_future(cache.obtain(b"k", login)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiters)
    assert logins == [1]
    assert {answer.token for answer, _ in results} == {"token-1"}
    assert [joined for _, joined in results] == [False] + [True] * 19
    answer, from_cache = await cache.obtain(b"k", login)
    assert (answer.token, from_cache, logins) == ("token-1", True, [1])


async def test_failed_logins_are_shared_by_waiters_but_never_cached() -> None:
    cache = TokenCache(10, 60)
    calls: list[str] = []

    async def wrong() -> LoginAnswer:
        calls.append("login")
        await asyncio.sleep(0)
        return LoginAnswer("invalid_credentials", status=401, body=b"{}")

    first, second = await asyncio.gather(cache.obtain(b"k", wrong), cache.obtain(b"k", wrong))
    assert first[0].result == second[0].result == "invalid_credentials"
    assert calls == ["login"]
    await cache.obtain(b"k", wrong)
    assert calls == ["login", "login"] and len(cache) == 0


async def test_a_cancelled_caller_does_not_cancel_the_shared_login() -> None:
    cache = TokenCache(10, 60)
    release = asyncio.Event()

    async def login() -> LoginAnswer:
        await release.wait()
        return LoginAnswer("ok", "tok")

    leader = asyncio.ensure_future(cache.obtain(b"k", login))
    follower = asyncio.ensure_future(cache.obtain(b"k", login))
    await asyncio.sleep(0)
    leader.cancel()
    release.set()
    answer, _ = await follower
    assert answer.token == "tok" and cache.cached(b"k") == "tok"
    with pytest.raises(asyncio.CancelledError):
        await leader


async def test_a_crashing_login_reaches_every_waiter_and_leaves_no_state() -> None:
    cache = TokenCache(10, 60)

    async def broken() -> LoginAnswer:
        await asyncio.sleep(0)
        raise RuntimeError("bug")

    results = await asyncio.gather(
        cache.obtain(b"k", broken), cache.obtain(b"k", broken), return_exceptions=True
    )
    assert all(isinstance(result, RuntimeError) for result in results)

    async def fine() -> LoginAnswer:
        return LoginAnswer("ok", "t")

    assert (await cache.obtain(b"k", fine))[0].token == "t"


def test_a_cache_needs_room_and_a_ttl() -> None:
    with pytest.raises(ValueError):
        TokenCache(0, 60)
    with pytest.raises(ValueError):
        TokenCache(1, 0)
