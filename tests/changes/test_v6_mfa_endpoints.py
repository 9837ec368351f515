"""v6 MFA endpoints: refused by the gateway for older clients and on older upstreams."""

from __future__ import annotations

import aiohttp
import pytest

from gateway.kinvey.errors import DEFAULT_DESCRIPTIONS
from gateway.versioning import RequestInfo, ResponseInfo
from tests.changes.support import (
    APP_AUTH,
    Harness,
    StartGatewayOnEmulator,
    json_answer,
)
from tests.conftest import APP_KEY
from tests.support.kinvey_client import KinveyClient

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
