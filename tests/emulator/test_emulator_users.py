"""Users: signup and login shapes by version, logout, _me, update, delete matrix, restore."""

import pytest

from tests.emulator.emulator_helpers import Api
from tests.support.kinvey_client import basic


@pytest.mark.parametrize("version, has_token", [(0, False), (1, True), (5, True), (6, False)])
async def test_signup_token_by_version(api: Api, version: int, has_token: bool) -> None:
    user = await api.signup(version, "amy", "pw", color="red")
    assert user["username"] == "amy" and user["color"] == "red" and "password" not in user
    assert user["_acl"]["creator"] == user["_id"]
    assert ("authtoken" in user["_kmd"]) is has_token
    if has_token:
        me = await api.call(
            "GET",
            f"/user/{api.key}/_me",
            version=version,
            auth="Kinvey " + user["_kmd"]["authtoken"],
        )
        assert me.status == 200 and me.json["_id"] == user["_id"]


async def test_implicit_user_gets_generated_credentials_once(api: Api) -> None:
    reply = await api.call("POST", f"/user/{api.key}", version=6, auth=api.app_auth)
    assert reply.status == 201
    username, password = reply.json["username"], reply.json["password"]
    assert username and password
    token = await api.login_token(6, username, password)
    me = await api.call("GET", f"/user/{api.key}/_me", version=6, auth=f"Kinvey {token}")
    assert me.json["username"] == username and "password" not in me.json
    empty_object = await api.call("POST", f"/user/{api.key}", version=3, auth=api.app_auth, body={})
    assert empty_object.status == 201 and empty_object.json["password"]
    assert "authtoken" in empty_object.json["_kmd"]


async def test_duplicate_username_is_user_already_exists(api: Api) -> None:
    await api.signup(3, "bea")
    reply = await api.call(
        "POST", f"/user/{api.key}", version=3, auth=api.app_auth, body={"username": "bea"}
    )
    assert reply.status == 409 and reply.error == "UserAlreadyExists"


async def test_login_bare_user_up_to_v5(api: Api) -> None:
    await api.signup(5, "cal", "pw")
    reply = await api.login(5, "cal", "pw")
    assert reply.status == 200
    assert reply.json["username"] == "cal" and reply.json["_kmd"]["authtoken"]
    assert "mfaRequired" not in reply.json and "password" not in reply.json


async def test_login_is_wrapped_at_v6(api: Api) -> None:
    await api.signup(6, "cal", "pw")
    reply = await api.login(6, "cal", "pw")
    assert reply.status == 200
    assert set(reply.json) == {"mfaRequired", "user", "authToken"}
    assert reply.json["mfaRequired"] is False
    assert reply.json["user"]["username"] == "cal"
    assert "authtoken" not in reply.json["user"]["_kmd"]
    token = reply.json["authToken"]
    me = await api.call("GET", f"/user/{api.key}/_me", version=6, auth=f"Kinvey {token}")
    assert me.status == 200


@pytest.mark.parametrize(
    "body, status, error",
    [
        ({"username": "dan", "password": "wrong"}, 401, "InvalidCredentials"),
        ({"username": "nobody", "password": "pw"}, 401, "InvalidCredentials"),
        ({"username": "dan"}, 400, "IncompleteRequestBody"),
    ],
)
async def test_login_failures(api: Api, body: dict[str, str], status: int, error: str) -> None:
    await api.signup(4, "dan", "pw")
    reply = await api.call(
        "POST", f"/user/{api.key}/login", version=4, auth=api.app_auth, body=body
    )
    assert reply.status == status and reply.error == error


async def test_login_needs_app_credentials(api: Api) -> None:
    await api.signup(4, "dan", "pw")
    reply = await api.call(
        "POST",
        f"/user/{api.key}/login",
        version=4,
        auth=basic("dan", "pw"),
        body={"username": "dan", "password": "pw"},
    )
    assert reply.status == 401 and reply.error == "InsufficientCredentials"


async def test_session_login_and_logout_do_not_exist_at_v0(api: Api) -> None:
    await api.signup(0, "eve", "pw")
    for path in ("login", "_logout"):
        reply = await api.call(
            "POST",
            f"/user/{api.key}/{path}",
            version=0,
            auth=api.app_auth,
            body={"username": "eve", "password": "pw"},
        )
        assert reply.status == 400
        assert reply.json == {"error": "Requested functionality is unavailable in this API version"}
    me = await api.call("GET", f"/user/{api.key}/_me", version=0, auth=basic("eve", "pw"))
    assert me.status == 200 and me.json["username"] == "eve" and "authtoken" not in me.json["_kmd"]


@pytest.mark.parametrize("version, status", [(1, 500), (3, 500), (4, 401), (6, 401)])
async def test_social_identity_refresh_error_status(api: Api, version: int, status: int) -> None:
    body = {"_socialIdentity": {"facebook": {"access_token": "t"}}}
    reply = await api.call(
        "POST", f"/user/{api.key}/login", version=version, auth=api.app_auth, body=body
    )
    assert reply.status == status
    assert reply.json["error"] == "OAuthTokenRefreshError"
    assert set(reply.json) == {"error", "description", "debug"}


async def test_logout_ends_the_session(api: Api) -> None:
    token = await api.session(3, "fin")
    bye = await api.call("POST", f"/user/{api.key}/_logout", version=3, auth=token)
    assert bye.status == 204 and bye.raw == b""
    after = await api.call("GET", f"/user/{api.key}/_me", version=3, auth=token)
    assert after.status == 401 and after.error == "InvalidCredentials"


async def test_read_and_update_users(api: Api) -> None:
    user = await api.signup(4, "gil", "pw", age=1)
    other = await api.signup(4, "hoa", "pw")
    token = "Kinvey " + await api.login_token(4, "gil")
    path = f"/user/{api.key}/{user['_id']}"
    read = await api.call("GET", f"/user/{api.key}/{other['_id']}", version=4, auth=token)
    assert read.status == 200 and read.json["username"] == "hoa"
    updated = await api.call("PUT", path, version=4, auth=token, body={"age": 2, "password": "new"})
    assert updated.status == 200 and updated.json["age"] == 2 and updated.json["username"] == "gil"
    assert updated.json["_kmd"]["ect"] == user["_kmd"]["ect"]
    assert await api.login_token(4, "gil", "new")
    taken = await api.call("PUT", path, version=4, auth=token, body={"username": "hoa"})
    assert taken.status == 409 and taken.error == "UserAlreadyExists"
    not_mine = await api.call(
        "PUT", f"/user/{api.key}/{other['_id']}", version=4, auth=token, body={"age": 9}
    )
    assert not_mine.status == 401 and not_mine.error == "InsufficientCredentials"
    missing = await api.call("GET", f"/user/{api.key}/nobody", version=4, auth=token)
    assert missing.status == 404 and missing.error == "UserNotFound"


async def _delete_and_probe(api: Api, version: int, params: dict[str, str]) -> str:
    """Delete a fresh user at ``version`` with ``params``; 'soft', 'hard' or 'alive'."""
    user = await api.signup(version, "victim", "pw")
    reply = await api.call(
        "DELETE",
        f"/user/{api.key}/{user['_id']}",
        version=version,
        auth=api.master_auth,
        params=params,
    )
    assert reply.status == 204 and reply.raw == b""
    seen = await api.call("GET", f"/user/{api.key}/{user['_id']}", version=6, auth=api.master_auth)
    if seen.status == 404:
        return "hard"
    assert seen.status == 200
    return "soft" if seen.json["_kmd"].get("status", {}).get("val") == "disabled" else "alive"


@pytest.mark.parametrize(
    "version, params, outcome",
    [
        (0, {}, "hard"),
        (0, {"soft": "true"}, "hard"),
        (1, {}, "hard"),
        (1, {"soft": "true"}, "soft"),
        (1, {"hard": "true"}, "hard"),
        (2, {}, "soft"),
        (2, {"hard": "true"}, "hard"),
        (2, {"soft": "true"}, "soft"),
        (6, {}, "soft"),
        (6, {"hard": "True"}, "hard"),
    ],
)
async def test_user_delete_matrix(
    api: Api, version: int, params: dict[str, str], outcome: str
) -> None:
    assert await _delete_and_probe(api, version, params) == outcome


async def test_restore_needs_the_master_secret_and_re_enables(api: Api) -> None:
    user = await api.signup(3, "ivy", "pw")
    token = "Kinvey " + await api.login_token(3, "ivy")
    await api.call("DELETE", f"/user/{api.key}/{user['_id']}", version=3, auth=token)
    viewer = await api.session(3, "viewer")
    hidden = await api.call("GET", f"/user/{api.key}/{user['_id']}", version=3, auth=viewer)
    assert hidden.status == 404 and hidden.error == "UserNotFound"
    restore = f"/user/{api.key}/{user['_id']}/_restore"
    by_app = await api.call("POST", restore, version=3, auth=api.app_auth)
    assert by_app.status == 401 and by_app.error == "InsufficientCredentials"
    restored = await api.call("POST", restore, version=3, auth=api.master_auth)
    assert restored.status == 204
    assert await api.login_token(3, "ivy")
    missing = await api.call(
        "POST", f"/user/{api.key}/nobody/_restore", version=3, auth=api.master_auth
    )
    assert missing.status == 404 and missing.error == "UserNotFound"


async def test_user_query_hides_disabled_users_from_users(api: Api) -> None:
    await api.signup(3, "jo", "pw")
    gone = await api.signup(3, "kai", "pw")
    await api.call("DELETE", f"/user/{api.key}/{gone['_id']}", version=3, auth=api.master_auth)
    token = "Kinvey " + await api.login_token(3, "jo")
    seen = await api.call(
        "GET",
        f"/user/{api.key}",
        version=3,
        auth=token,
        params={"query": "{}", "sort": '{"username": 1}'},
    )
    assert [u["username"] for u in seen.json] == ["jo"]
    by_master = await api.call("GET", f"/user/{api.key}/", version=3, auth=api.master_auth)
    assert sorted(u["username"] for u in by_master.json) == ["jo", "kai"]
    query = {"query": '{"username": "jo"}'}
    count = await api.call("GET", f"/user/{api.key}/_count", version=3, auth=token, params=query)
    assert count.status == 200 and count.json == {"count": 1}
