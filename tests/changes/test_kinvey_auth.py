"""Basic credential parsing and login answers (the token cache: test_session_cache.py)."""

from __future__ import annotations

from gateway.kinvey.auth import (
    basic_header,
    parse_basic,
    session_token_of,
    user_basic,
    user_id_of,
    with_authtoken,
    without_authtoken,
)


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


def test_the_user_id_is_found_in_wrapped_and_bare_login_answers() -> None:
    assert user_id_of({"mfaRequired": False, "user": {"_id": "u1"}, "authToken": "a"}) == "u1"
    assert user_id_of({"_id": "u2", "_kmd": {"authtoken": "c"}}) == "u2"
    for answer in ({"user": {}}, {"_id": ""}, {"_id": 7}, [], None, {"user": "u"}):
        assert user_id_of(answer) is None


def test_user_documents_get_and_lose_their_token_without_being_mutated() -> None:
    user = {"_id": "u", "_kmd": {"lmt": "t"}}
    added = with_authtoken(user, "tok")
    assert added == {"_id": "u", "_kmd": {"lmt": "t", "authtoken": "tok"}}
    assert user == {"_id": "u", "_kmd": {"lmt": "t"}}
    assert without_authtoken(added) == user and "authtoken" in added["_kmd"]
    assert without_authtoken(user) is user
