"""Emulator support for issue 14's gaps: recovery codes, social identities, CORS."""

from __future__ import annotations

import pytest

from tests.emulator.emulator_helpers import Api

CURRENT = 4102444800  # 2100-01-01: a social token the emulator trusts


async def _mfa_user(api: Api) -> str:
    created = await api.signup(6, "rita", "pw", mfaRequired=True)
    return str(created["_id"])


async def test_recovery_codes_list_regenerate_and_log_in_once(api: Api) -> None:
    user_id = await _mfa_user(api)
    path = f"/user/{api.key}/{user_id}/recovery-codes"
    listed = await api.call("GET", path, version=6, auth=api.master_auth)
    assert listed.status == 200 and len(listed.json["recoveryCodes"]) == 10
    again = await api.call("GET", path, version=6, auth=api.master_auth)
    assert again.json == listed.json
    fresh = await api.call("POST", path, version=6, auth=api.master_auth)
    codes = fresh.json["recoveryCodes"]
    assert fresh.status == 200 and set(codes).isdisjoint(listed.json["recoveryCodes"])
    old_code = await api.login(6, "rita", recoveryCode=listed.json["recoveryCodes"][0])
    assert old_code.json["mfaRequired"] is True  # regenerated: the old codes are gone
    used = await api.login(6, "rita", recoveryCode=codes[0])
    assert used.status == 200 and used.json["mfaRequired"] is False and used.json["authToken"]
    reused = await api.login(6, "rita", recoveryCode=codes[0])
    assert reused.json["mfaRequired"] is True  # one use per code


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_recovery_codes_do_not_exist_below_v6(api: Api, method: str) -> None:
    user_id = await _mfa_user(api)
    path = f"/user/{api.key}/{user_id}/recovery-codes"
    reply = await api.call(method, path, version=5, auth=api.master_auth)
    assert reply.status == 400 and reply.json["error"] == "FeatureUnavailable"


@pytest.mark.parametrize(("version", "token_in_signup"), [(1, True), (5, True), (6, False)])
async def test_social_signup_and_login(api: Api, version: int, token_in_signup: bool) -> None:
    identity = {
        "_socialIdentity": {"facebook": {"id": "fb-9", "access_token": "t", "expires": CURRENT}}
    }
    users = f"/user/{api.key}"
    created = await api.call("POST", users, version=version, auth=api.app_auth, body=identity)
    assert created.status == 201, created.raw
    assert "password" not in created.json
    assert ("authtoken" in created.json["_kmd"]) is token_in_signup
    taken = await api.call("POST", users, version=version, auth=api.app_auth, body=identity)
    assert taken.status == 409 and taken.json["error"] == "UserAlreadyExists"
    login = await api.call(
        "POST", f"{users}/login", version=version, auth=api.app_auth, body=identity
    )
    assert login.status == 200
    user = login.json["user"] if version == 6 else login.json
    assert user["_id"] == created.json["_id"]
    stranger = {
        "_socialIdentity": {"facebook": {"id": "fb-0", "access_token": "t", "expires": CURRENT}}
    }
    unknown = await api.call(
        "POST", f"{users}/login", version=version, auth=api.app_auth, body=stranger
    )
    assert unknown.status == 404 and unknown.json["error"] == "UserNotFound"


async def test_every_answer_is_readable_cross_origin_and_preflights_are_answered(api: Api) -> None:
    refused = await api.call("GET", f"/appdata/{api.key}", version=99, auth=api.app_auth)
    assert refused.status == 400 and refused.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Kinvey-Request-Id" in refused.headers["Access-Control-Expose-Headers"]
    asked = {
        "Origin": "http://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    preflight = await api.call("OPTIONS", f"/blob/{api.key}", headers=asked)
    assert preflight.status == 204 and preflight.raw == b""
    assert preflight.headers["Access-Control-Allow-Headers"] == "authorization,content-type"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "X-Kinvey-API-Version" not in preflight.headers
