"""Who may call what: app/master secrets, user Basic (refused at v6), sessions (none at v0)."""

import pytest

from tests.emulator.emulator_helpers import Api
from tests.support.kinvey_client import basic


async def test_app_and_master_secrets_authenticate(api: Api) -> None:
    for credentials in (api.app_auth, api.master_auth):
        reply = await api.call("GET", f"/appdata/{api.key}", version=6, auth=credentials)
        assert reply.status == 200


@pytest.mark.parametrize(
    "credentials",
    [
        None,
        basic("kid_demo", "wrong"),
        basic("nobody", "pw"),
        "Basic !!!notbase64",
        "Basic " + "bm9jb2xvbg==",  # "nocolon"
        "Bearer abc",
        "Kinvey not-a-session",
    ],
)
async def test_missing_or_wrong_credentials_get_invalid_credentials(
    api: Api, credentials: str | None
) -> None:
    reply = await api.call("GET", f"/appdata/{api.key}/c", version=5, auth=credentials)
    assert reply.status == 401 and reply.error == "InvalidCredentials"


async def test_app_secret_may_use_data_but_not_act_as_a_user(api: Api) -> None:
    data = await api.call("GET", f"/appdata/{api.key}/c", version=5, auth=api.app_auth)
    assert data.status == 200 and data.json == []
    me = await api.call("GET", f"/user/{api.key}/_me", version=5, auth=api.app_auth)
    assert me.status == 401 and me.error == "InsufficientCredentials"
    user = await api.signup(5, "lee")
    update = await api.call(
        "PUT", f"/user/{api.key}/{user['_id']}", version=5, auth=api.app_auth, body={}
    )
    assert update.status == 401 and update.error == "InsufficientCredentials"


async def test_master_secret_reads_data(api: Api) -> None:
    reply = await api.call("GET", f"/appdata/{api.key}/c", version=5, auth=api.master_auth)
    assert reply.status == 200 and reply.json == []


async def test_user_basic_accepted_at_v5_refused_at_v6(api: Api) -> None:
    await api.signup(5, "gus", "secret")
    credentials = basic("gus", "secret")
    at5 = await api.call("GET", f"/appdata/{api.key}/c", version=5, auth=credentials)
    assert at5.status == 200
    at6 = await api.call("GET", f"/appdata/{api.key}/c", version=6, auth=credentials)
    assert at6.status == 401 and at6.error == "InvalidCredentials"
    wrong = await api.call("GET", f"/appdata/{api.key}/c", version=5, auth=basic("gus", "nope"))
    assert wrong.status == 401 and wrong.error == "InvalidCredentials"


async def test_sessions_work_from_v1_and_are_refused_at_v0(api: Api) -> None:
    token = await api.session(1, "hal")
    at1 = await api.call("GET", f"/appdata/{api.key}/c", version=1, auth=token)
    assert at1.status == 200
    at0 = await api.call("GET", f"/appdata/{api.key}/c", version=0, auth=token)
    assert at0.status == 401 and at0.json == {"error": at0.json["error"]}
    at0_basic = await api.call("GET", f"/appdata/{api.key}/c", version=0, auth=basic("hal", "pw"))
    assert at0_basic.status == 200


async def test_auth_scheme_is_case_insensitive(api: Api) -> None:
    token = (await api.session(4, "ida")).split(" ", 1)[1]
    reply = await api.call("GET", f"/appdata/{api.key}/c", version=4, auth=f"kinvey {token}")
    assert reply.status == 200


async def test_disabled_user_cannot_login_use_basic_or_sessions(api: Api) -> None:
    user = await api.signup(2, "jan", "pw")
    token = "Kinvey " + await api.login_token(2, "jan")
    disabled = await api.call("DELETE", f"/user/{api.key}/{user['_id']}", version=2, auth=token)
    assert disabled.status == 204
    session = await api.call("GET", f"/appdata/{api.key}/c", version=2, auth=token)
    assert session.status == 401 and session.error == "InvalidCredentials"
    basic_auth = await api.call("GET", f"/appdata/{api.key}/c", version=2, auth=basic("jan", "pw"))
    assert basic_auth.status == 401 and basic_auth.error == "InvalidCredentials"
    login = await api.login(2, "jan", "pw")
    assert login.status == 401 and login.error == "InvalidCredentials"


async def test_user_may_not_sign_up_others(api: Api) -> None:
    token = await api.session(3, "kim")
    reply = await api.call(
        "POST", f"/user/{api.key}", version=3, auth=token, body={"username": "x", "password": "y"}
    )
    assert reply.status == 401 and reply.error == "InsufficientCredentials"


async def test_kinvey_mfa_tokens_do_not_authenticate_data_calls(api: Api) -> None:
    reply = await api.call("GET", f"/appdata/{api.key}/c", version=6, auth="KinveyMFA abc")
    assert reply.status == 401 and reply.error == "InvalidCredentials"
