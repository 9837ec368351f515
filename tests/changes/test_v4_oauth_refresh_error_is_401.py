"""v4 OAuthRefreshErrorIs401: the refresh error's status follows the client's version."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.changes.support import APP_AUTH, StartGatewayOnEmulator, answering, make_request, run
from tests.conftest import APP_KEY
from tests.support.kinvey_client import KinveyClient

REFRESH_ERROR = {
    "error": "OAuthTokenRefreshError",
    "description": "The OAuth token for this user could not be refreshed",
    "debug": "mic",
}


@pytest.mark.parametrize("client", [1, 2, 3])
async def test_older_clients_get_500_with_the_same_body_bytes(client: int) -> None:
    raw = json.dumps(REFRESH_ERROR, indent=2).encode()
    upstream = answering(401, raw, {"Content-Type": "application/json"})
    response = await run(make_request("GET", "/appdata/k/c", client, 6), upstream)
    assert response.status == 500
    assert response.body == raw


async def test_v0_gets_500_in_its_own_error_shape() -> None:
    response = await run(make_request("POST", "/user/k/login", 0, 6), answering(401, REFRESH_ERROR))
    # v0 has no login at all: the v1 gate answers first.
    assert response.status == 400
    response = await run(make_request("GET", "/appdata/k/c", 0, 6), answering(401, REFRESH_ERROR))
    assert (response.status, response.json) == (500, {"error": REFRESH_ERROR["description"]})


@pytest.mark.parametrize("client", [4, 5, 6])
async def test_newer_clients_on_a_v3_upstream_get_401(client: int) -> None:
    upstream = answering(500, REFRESH_ERROR)
    response = await run(make_request("POST", "/user/k/login", client, 3), upstream)
    assert (response.status, response.json) == (401, REFRESH_ERROR)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"error": "InvalidCredentials", "description": "x", "debug": ""}),
        (500, {"error": "KinveyInternalErrorStop", "description": "x", "debug": ""}),
        (401, b"<html>no</html>"),
    ],
)
async def test_other_errors_keep_their_status(status: int, body: Any) -> None:
    for client, pin in ((3, 6), (6, 3)):
        response = await run(
            make_request("GET", "/appdata/k/c", client, pin), answering(status, body)
        )
        assert response.status == status


async def test_matching_clients_and_upstreams_are_not_translated() -> None:
    for client, pin, status in ((4, 6, 401), (6, 4, 401), (3, 3, 500)):
        response = await run(
            make_request("GET", "/appdata/k/c", client, pin), answering(status, REFRESH_ERROR)
        )
        assert response.status == status


@pytest.mark.parametrize(("client", "pin", "status"), [(3, 6, 500), (6, 3, 401), (5, 5, 401)])
async def test_end_to_end_the_emulator_refusing_a_social_login(
    start_gateway_on_emulator: StartGatewayOnEmulator, client: int, pin: int, status: int
) -> None:
    # The emulator answers OAuthTokenRefreshError for any signup carrying _socialIdentity.
    gateway = await start_gateway_on_emulator(pin)
    reply = await KinveyClient(gateway.url, client, APP_AUTH).call(
        "POST", f"/user/{APP_KEY}", body={"_socialIdentity": {"facebook": {"a": 1}}}
    )
    assert reply.status == status
    assert reply.json["error"] == "OAuthTokenRefreshError"
