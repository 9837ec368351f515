"""v6 MFA endpoints: refused by the gateway for older clients and on older upstreams."""

from __future__ import annotations

import json

import aiohttp
import pytest

from gateway.kinvey.errors import DEFAULT_DESCRIPTIONS
from gateway.versioning import RequestInfo, ResponseInfo
from tests.changes.support import (
    APP_AUTH,
    Harness,
    StartGatewayOnEmulator,
    assert_untouched,
    json_answer,
)
from tests.conftest import APP_KEY, MASTER_SECRET
from tests.support.kinvey_client import KinveyClient, basic

MFA_PATHS = [
    ("POST", f"/user/{APP_KEY}/mfa/challenge"),
    ("POST", f"/user/{APP_KEY}/mfa/complete"),
    ("GET", f"/user/{APP_KEY}/u1/authenticators"),
    ("POST", f"/user/{APP_KEY}/u1/authenticators"),
]


async def _ok(request: RequestInfo) -> ResponseInfo:
    return json_answer(200, {"reached": "upstream"})


@pytest.mark.parametrize(("client", "upstream"), [(5, 6), (3, 6), (0, 6), (6, 5), (6, 3)])
@pytest.mark.parametrize(("method", "path"), MFA_PATHS)
async def test_mfa_endpoints_are_answered_by_the_gateway(
    client: int, upstream: int, method: str, path: str
) -> None:
    harness = Harness()
    request = harness.request(method, path, client, upstream, body={"code": "123456"})
    response = await harness.run(request, _ok)
    assert response.status == 400
    if client == 0:  # v0's error shape, made by the v1 change on the way out
        assert response.json == {"error": DEFAULT_DESCRIPTIONS["FeatureUnavailable"]}
    else:
        assert response.json["error"] == "FeatureUnavailable"
    assert harness.seen == []
    assert harness.metrics.refused == [("MfaEndpointsAdded", "FeatureUnavailable")]


async def test_a_kinvey_mfa_session_is_refused_on_any_route() -> None:
    harness = Harness()
    request = harness.request(
        "POST", f"/user/{APP_KEY}/login", 6, 5, headers={"Authorization": "KinveyMFA abc"}
    )
    response = await harness.run(request, _ok)
    assert response.status == 400 and harness.seen == []


async def test_other_user_routes_still_reach_the_upstream() -> None:
    harness = Harness()
    request = harness.request("GET", f"/user/{APP_KEY}/u1", 5, 6, headers={"Authorization": "x"})
    response = await harness.run(request, _ok)
    assert response.json == {"reached": "upstream"}
    assert len(harness.seen) == 1


async def test_same_version_reaches_the_upstream() -> None:
    harness = Harness()
    response = await harness.run(harness.request(*MFA_PATHS[0], 6, 6), _ok)
    assert response.json == {"reached": "upstream"}


async def test_end_to_end_against_the_emulator(
    start_gateway_on_emulator: StartGatewayOnEmulator, http_session: aiohttp.ClientSession
) -> None:
    gateway = await start_gateway_on_emulator(6)
    old = KinveyClient(gateway.url, 5, session=http_session)
    refused = await old.call("POST", f"/user/{APP_KEY}/mfa/challenge", auth="KinveyMFA t", body={})
    assert refused.status == 400, refused.raw
    assert refused.json["error"] == "FeatureUnavailable"
    # the same call from a v6 client reaches the emulator, which judges the MFA session
    new = KinveyClient(gateway.url, 6, session=http_session)
    reached = await new.call("POST", f"/user/{APP_KEY}/mfa/challenge", auth="KinveyMFA t", body={})
    assert reached.status == 401 and reached.json["error"] == "InvalidCredentials"
    handshake = await old.call("GET", f"/appdata/{APP_KEY}", auth=APP_AUTH)
    assert handshake.status == 200


@pytest.mark.parametrize(("client", "upstream"), [(5, 6), (1, 6), (0, 6), (6, 5), (6, 3)])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_recovery_codes_are_mfa_endpoints(client: int, upstream: int, method: str) -> None:
    """Issue 14 / spec §3: listing and regenerating recovery codes is v6 only."""
    harness = Harness()
    request = harness.request(method, f"/user/{APP_KEY}/u1/recovery-codes", client, upstream)
    response = await harness.run(request, _ok)
    assert response.status == 400 and harness.seen == []


@pytest.mark.parametrize("client", [1, 3, 5])
@pytest.mark.parametrize("second_factor", ["recoveryCode", "deviceToken"])
async def test_an_older_login_is_sent_without_a_second_factor(
    client: int, second_factor: str
) -> None:
    """So an MFA account stays a 401 for a pre-v6 app, whatever its login body carries."""
    harness = Harness()
    body = {"username": "ann", "password": "pw", second_factor: "code-1"}
    request = harness.request("POST", f"/user/{APP_KEY}/login", client, 6, body=body)
    mfa_asked = json_answer(200, {"mfaRequired": True, "mfaSessionToken": "m"})
    response = await harness.run(request, lambda _: mfa_asked)
    assert response.status == 401 and "multi-factor" in response.json["description"]
    assert json.loads(harness.seen[0].body or b"") == {"username": "ann", "password": "pw"}


async def test_a_second_factor_field_elsewhere_is_data() -> None:
    """Only a login loses ``recoveryCode``/``deviceToken``: in an entity they are its data."""
    entity = {"title": "Dune", "recoveryCode": "r-1", "deviceToken": "d-1"}
    await assert_untouched("POST", f"/appdata/{APP_KEY}/books", 5, 6, body=entity, status=201)


async def test_a_v6_login_keeps_its_second_factor() -> None:
    harness = Harness()
    body = {"username": "ann", "password": "pw", "recoveryCode": "code-1"}
    request = harness.request("POST", f"/user/{APP_KEY}/login", 6, 6, body=body)
    await harness.run(request, _ok)
    assert json.loads(harness.seen[0].body or b"") == body


async def test_a_recovery_code_does_not_log_an_older_app_in_end_to_end(
    start_gateway_on_emulator: StartGatewayOnEmulator, http_session: aiohttp.ClientSession
) -> None:
    gateway = await start_gateway_on_emulator(6)
    v6 = KinveyClient(gateway.url, 6, session=http_session)
    created = await v6.call(
        "POST", f"/user/{APP_KEY}", auth=APP_AUTH, body={"username": "mo", "password": "pw"}
    )
    user_id = created.json["_id"]
    master = basic(APP_KEY, MASTER_SECRET)
    mfa = {"username": "mo", "mfaRequired": True}
    assert (await v6.call("PUT", f"/user/{APP_KEY}/{user_id}", auth=master, body=mfa)).status == 200
    codes = await v6.call("GET", f"/user/{APP_KEY}/{user_id}/recovery-codes", auth=master)
    assert codes.status == 200, codes.raw
    login = {"username": "mo", "password": "pw", "recoveryCode": codes.json["recoveryCodes"][0]}
    old = KinveyClient(gateway.url, 5, session=http_session)
    refused = await old.call("POST", f"/user/{APP_KEY}/login", auth=APP_AUTH, body=login)
    assert refused.status == 401 and refused.json["error"] == "InvalidCredentials"
    listed = await old.call("GET", f"/user/{APP_KEY}/{user_id}/recovery-codes", auth=master)
    assert listed.status == 400 and listed.json["error"] == "FeatureUnavailable"
    # the code was not used up: the v6 app still logs in with it
    allowed = await v6.call("POST", f"/user/{APP_KEY}/login", auth=APP_AUTH, body=login)
    assert allowed.status == 200 and allowed.json["mfaRequired"] is False
