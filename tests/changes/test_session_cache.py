"""The Basic→session token cache: keyed hashes, LRU, TTL, coalesced logins, sessions ended per
user id, and logins racing a password change never resurrecting an old-credential session."""

from __future__ import annotations

import asyncio

import pytest

from gateway.kinvey.auth import LoginAnswer
from gateway.kinvey.routes import match
from gateway.kinvey.session_cache import (
    SessionKey,
    TokenCache,
    end_sessions_after_user_save,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _key(name: str, app_key: str = "kid") -> SessionKey:
    return SessionKey(app_key, name.encode())


def test_keys_are_keyed_hashes_that_separate_every_credential_pair() -> None:
    cache = TokenCache(10, 60)
    key = cache.key("app", "ann", "secret-password")
    assert key == cache.key("app", "ann", "secret-password")
    assert b"secret-password" not in key.digest and len(key.digest) == 32
    assert "secret" not in repr(key)
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
    a, b, c = _key("a"), _key("b"), _key("c")
    cache.store(a, "ta", "u1")
    cache.store(b, "tb", "u2")
    assert cache.cached(a) == "ta"  # a is now the most recently used
    cache.store(c, "tc", "u3")
    assert (cache.cached(a), cache.cached(b), cache.cached(c)) == ("ta", None, "tc")
    clock.now += 59.0
    assert cache.cached(a) == "ta"
    clock.now += 1.0
    assert cache.cached(a) is None and len(cache) == 1
    assert cache.end_sessions("kid", "u1") == 0  # an expired entry leaves no trace behind


def test_forget_drops_only_the_refused_token() -> None:
    cache = TokenCache(10, 60)
    cache.store(_key("k"), "new", "u")
    cache.forget(_key("k"), "old")  # a late 401 for a token already replaced
    assert cache.cached(_key("k")) == "new"
    cache.forget(_key("k"), "new")
    assert cache.cached(_key("k")) is None


def test_ending_a_users_sessions_drops_every_name_and_password_they_were_made_with() -> None:
    cache = TokenCache(10, 60)
    old_name, new_name, older_password, other, elsewhere = (
        cache.key("kid", "ada", "pw1"),
        cache.key("kid", "ada-renamed", "pw2"),
        cache.key("kid", "ada", "pw0"),
        cache.key("kid", "bob", "pw1"),
        cache.key("kid2", "ada", "pw1"),
    )
    for key, token in ((old_name, "t1"), (new_name, "t2"), (older_password, "t0")):
        cache.store(key, token, "id-ada")
    cache.store(other, "tb", "id-bob")
    cache.store(elsewhere, "te", "id-ada")  # the same user id in another app
    assert cache.end_sessions("kid", "id-ada") == 3
    remaining = [cache.cached(key) for key in (old_name, new_name, older_password, other)]
    assert remaining == [None, None, None, "tb"]
    assert cache.cached(elsewhere) == "te"
    assert cache.end_sessions("kid", "id-ada") == 0


def test_a_successful_user_save_ends_that_users_sessions_and_nothing_else_does() -> None:
    cache = TokenCache(10, 60)
    key = cache.key("kid", "ada", "pw")
    user = match("/user/kid/id-ada")
    for method, route, status in (
        ("PUT", user, 409),
        ("GET", user, 200),
        ("PUT", match("/appdata/kid/books/id-ada"), 200),
    ):
        cache.store(key, "t", "id-ada")
        end_sessions_after_user_save(cache, method, route, status)
        assert cache.cached(key) == "t", (method, route, status)
    end_sessions_after_user_save(cache, "PUT", user, 200)
    assert cache.cached(key) is None


async def test_concurrent_logins_with_one_credential_pair_share_one_login() -> None:
    cache = TokenCache(10, 60)
    release = asyncio.Event()
    logins: list[int] = []

    async def login() -> LoginAnswer:
        logins.append(1)
        await release.wait()
        return LoginAnswer("ok", f"token-{len(logins)}", "u")

    waiters = [asyncio.ensure_future(cache.obtain(_key("k"), login)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiters)
    assert logins == [1]
    assert {answer.token for answer, _ in results} == {"token-1"}
    assert [joined for _, joined in results] == [False] + [True] * 19
    answer, from_cache = await cache.obtain(_key("k"), login)
    assert (answer.token, from_cache, logins) == ("token-1", True, [1])


async def test_a_login_running_when_its_user_is_ended_is_used_but_never_cached_nor_joined() -> None:
    """The old password's login was in flight when the password changed: no resurrection."""
    cache = TokenCache(10, 60)
    old_key, new_key = cache.key("kid", "ada", "old"), cache.key("kid", "ada", "new")
    release_old = asyncio.Event()
    logins: list[str] = []

    async def old_login() -> LoginAnswer:
        logins.append("old")
        await release_old.wait()
        return LoginAnswer("ok", "old-session", "id-ada")

    async def refused_login() -> LoginAnswer:
        logins.append("refused")
        return LoginAnswer("invalid_credentials", status=401)

    async def new_login() -> LoginAnswer:
        logins.append("new")
        return LoginAnswer("ok", "new-session", "id-ada")

    early = asyncio.ensure_future(cache.obtain(old_key, old_login))
    await asyncio.sleep(0)
    assert cache.end_sessions("kid", "id-ada") == 0  # the password changed meanwhile
    # A caller with the old password after the change does not join the stale login.
    late, joined = await cache.obtain(old_key, refused_login)
    assert (late.result, joined) == ("invalid_credentials", False)
    release_old.set()
    answer, _ = await early
    assert answer.token == "old-session"  # the request that was already running goes on
    assert cache.cached(old_key) is None and len(cache) == 0
    assert (await cache.obtain(new_key, new_login))[0].token == "new-session"
    assert cache.cached(new_key) == "new-session"  # logins after the change are cached
    assert logins == ["old", "refused", "new"]


@pytest.mark.parametrize(
    ("capacity", "ended_meanwhile", "cached"),
    [
        (10, ["id-bob"], "tok"),  # another user's change does not concern this login
        (2, ["id-ada", "id-b", "id-c"], None),  # ada's record overflowed: still not cached
    ],
)
async def test_a_running_login_is_cached_unless_its_user_may_have_been_ended(
    capacity: int, ended_meanwhile: list[str], cached: str | None
) -> None:
    cache = TokenCache(capacity, 60)
    release = asyncio.Event()

    async def login() -> LoginAnswer:
        await release.wait()
        return LoginAnswer("ok", "tok", "id-ada")

    running = asyncio.ensure_future(cache.obtain(_key("k"), login))
    await asyncio.sleep(0)
    for user in ended_meanwhile:
        cache.end_sessions("kid", user)
    release.set()
    await running
    assert cache.cached(_key("k")) == cached


async def test_a_login_answer_without_a_user_id_is_used_but_not_cached() -> None:
    cache = TokenCache(10, 60)

    async def login() -> LoginAnswer:
        return LoginAnswer("ok", "tok")

    assert (await cache.obtain(_key("k"), login))[0].token == "tok"
    assert len(cache) == 0


async def test_failed_logins_are_shared_by_waiters_but_never_cached() -> None:
    cache = TokenCache(10, 60)
    calls: list[str] = []

    async def wrong() -> LoginAnswer:
        calls.append("login")
        await asyncio.sleep(0)
        return LoginAnswer("invalid_credentials", status=401, body=b"{}")

    first, second = await asyncio.gather(
        cache.obtain(_key("k"), wrong), cache.obtain(_key("k"), wrong)
    )
    assert first[0].result == second[0].result == "invalid_credentials"
    assert calls == ["login"]
    await cache.obtain(_key("k"), wrong)
    assert calls == ["login", "login"] and len(cache) == 0


async def test_a_cancelled_caller_does_not_cancel_the_shared_login() -> None:
    cache = TokenCache(10, 60)
    release = asyncio.Event()

    async def login() -> LoginAnswer:
        await release.wait()
        return LoginAnswer("ok", "tok", "u")

    leader = asyncio.ensure_future(cache.obtain(_key("k"), login))
    follower = asyncio.ensure_future(cache.obtain(_key("k"), login))
    await asyncio.sleep(0)
    leader.cancel()
    release.set()
    answer, _ = await follower
    assert answer.token == "tok" and cache.cached(_key("k")) == "tok"
    with pytest.raises(asyncio.CancelledError):
        await leader


async def test_a_crashing_login_reaches_every_waiter_and_leaves_no_state() -> None:
    cache = TokenCache(10, 60)

    async def broken() -> LoginAnswer:
        await asyncio.sleep(0)
        raise RuntimeError("bug")

    results = await asyncio.gather(
        cache.obtain(_key("k"), broken), cache.obtain(_key("k"), broken), return_exceptions=True
    )
    assert all(isinstance(result, RuntimeError) for result in results)

    async def fine() -> LoginAnswer:
        return LoginAnswer("ok", "t", "u")

    assert (await cache.obtain(_key("k"), fine))[0].token == "t"


def test_a_cache_needs_room_and_a_ttl() -> None:
    with pytest.raises(ValueError):
        TokenCache(0, 60)
    with pytest.raises(ValueError):
        TokenCache(1, 0)
