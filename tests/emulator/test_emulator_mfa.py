"""MFA: v6 only; older versions log MFA accounts in normally and refuse the MFA endpoints."""

import pytest

from tests.emulator.emulator_helpers import Api


async def _mfa_login(api: Api, version: int) -> dict[str, object]:
    await api.signup(version, "mia", "pw", mfaRequired=True)
    reply = await api.login(version, "mia", "pw")
    assert reply.status == 200
    result: dict[str, object] = reply.json
    return result


async def test_v5_logs_an_mfa_account_in_normally(api: Api) -> None:
    login = await _mfa_login(api, 5)
    assert login["username"] == "mia" and login["_kmd"]["authtoken"]  # type: ignore[index]


async def test_v6_login_of_an_mfa_account_and_completion(api: Api) -> None:
    login = await _mfa_login(api, 6)
    assert set(login) == {"mfaRequired", "mfaSessionToken", "userId", "authenticators"}
    assert login["mfaRequired"] is True
    authenticators = login["authenticators"]
    assert isinstance(authenticators, list) and len(authenticators) == 1
    assert set(authenticators[0]) == {"id", "type", "name"}
    mfa_auth = f"KinveyMFA {login['mfaSessionToken']}"
    challenged = await api.call(
        "POST",
        f"/user/{api.key}/mfa/challenge",
        version=6,
        auth=mfa_auth,
        body={"authenticatorId": authenticators[0]["id"]},
    )
    assert challenged.status == 200
    wrong = await api.call(
        "POST", f"/user/{api.key}/mfa/complete", version=6, auth=mfa_auth, body={"code": "000000"}
    )
    assert wrong.status == 401 and wrong.error == "InvalidCredentials"
    done = await api.call(
        "POST",
        f"/user/{api.key}/mfa/complete",
        version=6,
        auth=mfa_auth,
        body={"code": "123456", "createDeviceToken": True},
    )
    assert done.status == 200
    assert done.json["mfaRequired"] is False and done.json["user"]["_id"] == login["userId"]
    assert "authtoken" not in done.json["user"]["_kmd"]
    me = await api.call(
        "GET", f"/user/{api.key}/_me", version=6, auth=f"Kinvey {done.json['authToken']}"
    )
    assert me.status == 200
    reused = await api.call(
        "POST", f"/user/{api.key}/mfa/complete", version=6, auth=mfa_auth, body={"code": "123456"}
    )
    assert reused.status == 401  # the MFA session is spent
    trusted = await api.login(6, "mia", "pw", deviceToken=done.json["deviceToken"])
    assert trusted.json["mfaRequired"] is False and trusted.json["authToken"]


async def test_unknown_authenticator_cannot_be_challenged(api: Api) -> None:
    login = await _mfa_login(api, 6)
    reply = await api.call(
        "POST",
        f"/user/{api.key}/mfa/challenge",
        version=6,
        auth=f"KinveyMFA {login['mfaSessionToken']}",
        body={"authenticatorId": "nope"},
    )
    assert reply.status == 400


@pytest.mark.parametrize(
    "method, path",
    [("POST", "mfa/challenge"), ("POST", "mfa/complete"), ("GET", "x/authenticators")],
)
@pytest.mark.parametrize("version", [0, 5])
async def test_mfa_endpoints_are_unavailable_below_v6(
    api: Api, version: int, method: str, path: str
) -> None:
    reply = await api.call(method, f"/user/{api.key}/{path}", version=version, body={})
    assert reply.status == 400
    if version == 0:
        assert list(reply.json) == ["error"]
    else:
        assert reply.error == "FeatureUnavailable"


async def test_authenticators_list_and_add(api: Api) -> None:
    user = await api.signup(6, "ned", "pw")
    token = "Kinvey " + await api.login_token(6, "ned")
    path = f"/user/{api.key}/{user['_id']}/authenticators"
    assert (await api.call("GET", path, version=6, auth=token)).json == []
    added = await api.call(
        "POST", path, version=6, auth=token, body={"type": "sms", "name": "phone"}
    )
    assert added.status == 201 and added.json["type"] == "sms"
    listed = await api.call("GET", path, version=6, auth=api.master_auth)
    assert listed.json == [added.json]
    anonymous = await api.call("GET", path, version=6)
    assert anonymous.status == 401


async def test_mfa_required_can_be_set_by_update(api: Api) -> None:
    user = await api.signup(6, "ola", "pw")
    await api.call(
        "PUT",
        f"/user/{api.key}/{user['_id']}",
        version=6,
        auth=api.master_auth,
        body={"mfaRequired": True},
    )
    login = await api.login(6, "ola", "pw")
    assert login.json["mfaRequired"] is True and len(login.json["authenticators"]) == 1
