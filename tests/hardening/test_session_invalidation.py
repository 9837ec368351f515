"""A changed password ends every session the gateway cached for that user (issue 12, item 4).

Real gateways pinned to 6 in front of the built-in v6 emulator, which (like a backend that keeps
sessions across a password change) would otherwise keep honouring the session the gateway got
for the old password. Old apps authenticate with Basic user:password, which the gateway trades
for a cached session; whichever client version then changes the password (or renames the user)
through the gateway, the old credentials get ``401`` on the very next call.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.changes.support import AppClient, StartGatewayOnEmulator
from tests.conftest import APP_KEY, RunningGateway, StartGateway
from tests.support.kinvey_client import KinveyClient, basic

ME = f"/user/{APP_KEY}/_me"


async def _signup(gateway: RunningGateway, session: aiohttp.ClientSession, name: str) -> str:
    created = await AppClient(gateway.url, 3, session=session).signup(name, "old-pw")
    assert created.status == 201, created.raw
    return str(created.json["_id"])


async def _status(
    gateway: RunningGateway, session: aiohttp.ClientSession, version: int, auth: str
) -> int:
    return (
        await KinveyClient(gateway.url, version, session=session).call("GET", ME, auth=auth)
    ).status


async def _credentials_of(
    changer: int, gateway: RunningGateway, session: aiohttp.ClientSession, name: str
) -> str:
    """How the changing app authenticates: Basic (v0, even v2/v4), else a session it logged into."""
    if changer in (0, 2, 4):
        return basic(name, "old-pw")
    login = await AppClient(gateway.url, changer, session=session).login(name, "old-pw")
    assert login.status == 200, login.raw
    token = login.json["authToken"] if changer == 6 else login.json["_kmd"]["authtoken"]
    return f"Kinvey {token}"


@pytest.mark.parametrize("changer", range(7))
async def test_a_password_changed_by_any_client_version_ends_every_cached_session(
    changer: int,
    start_gateway_on_emulator: StartGatewayOnEmulator,
    http_session: aiohttp.ClientSession,
) -> None:
    gateway = await start_gateway_on_emulator(6)
    name = f"ada{changer}"
    user_id = await _signup(gateway, http_session, name)
    old, new = basic(name, "old-pw"), basic(name, "new-pw")
    for version in (0, 3, 5):  # Basic apps of several versions: cached sessions
        assert await _status(gateway, http_session, version, old) == 200
    auth = await _credentials_of(changer, gateway, http_session, name)
    changing = KinveyClient(gateway.url, changer, session=http_session)
    saved = await changing.call(
        "PUT",
        f"/user/{APP_KEY}/{user_id}",
        auth=auth,
        body={"username": name, "password": "new-pw"},
    )
    assert saved.status == 200, saved.raw
    for version in (0, 3, 5):
        assert await _status(gateway, http_session, version, old) == 401, version
        assert await _status(gateway, http_session, version, new) == 200, version


async def test_a_v3_save_that_renames_the_user_and_changes_the_password_ends_the_old_name(
    start_gateway_on_emulator: StartGatewayOnEmulator, http_session: aiohttp.ClientSession
) -> None:
    gateway = await start_gateway_on_emulator(6)
    user_id = await _signup(gateway, http_session, "bea")
    old = basic("bea", "old-pw")
    assert await _status(gateway, http_session, 0, old) == 200
    assert await _status(gateway, http_session, 3, old) == 200
    v3 = KinveyClient(gateway.url, 3, session=http_session)
    body = {"username": "bea-renamed", "password": "new-pw"}
    saved = await v3.call("PUT", f"/user/{APP_KEY}/{user_id}", auth=old, body=body)
    assert saved.status == 200 and saved.json["username"] == "bea-renamed", saved.raw
    assert "authtoken" not in saved.json["_kmd"]  # the gateway's session stays its own
    for version in (0, 3):
        assert await _status(gateway, http_session, version, old) == 401
        assert await _status(gateway, http_session, version, basic("bea-renamed", "old-pw")) == 401
        assert await _status(gateway, http_session, version, basic("bea-renamed", "new-pw")) == 200


async def test_requests_with_old_and_new_credentials_racing_the_change_resurrect_nothing(
    start_gateway_on_emulator: StartGatewayOnEmulator, http_session: aiohttp.ClientSession
) -> None:
    gateway = await start_gateway_on_emulator(6)
    user_id = await _signup(gateway, http_session, "cy")
    old, new = basic("cy", "old-pw"), basic("cy", "new-pw")
    assert await _status(gateway, http_session, 3, old) == 200
    v3 = KinveyClient(gateway.url, 3, session=http_session)

    async def change() -> int:
        body = {"password": "new-pw"}
        return (await v3.call("PUT", f"/user/{APP_KEY}/{user_id}", auth=old, body=body)).status

    racing: list[Any] = [change()]
    for round_ in range(12):
        version = round_ % 6  # v0-v5 Basic apps
        racing += [
            _status(gateway, http_session, version, old),
            _status(gateway, http_session, version, new),
        ]
    changed, *during = await asyncio.gather(*racing)
    assert changed == 200
    assert set(during) <= {200, 401}  # either side of the change, never an error
    for version in range(6):  # once the change has answered: only the new password works
        for _ in range(3):
            assert await _status(gateway, http_session, version, old) == 401, version
            assert await _status(gateway, http_session, version, new) == 200, version


async def test_another_replica_stops_honouring_the_old_password_when_its_cache_lifetime_ends(
    start_emulator: Any, start_gateway: StartGateway, http_session: aiohttp.ClientSession
) -> None:
    """Replicas share no cache: the change through one is bounded on the others by the TTL."""
    emulator = await start_emulator(min_api_version=6, max_api_version=6)
    lifetime = 0.5
    first = await start_gateway(emulator, auth__token_cache_ttl_seconds=lifetime)
    second = await start_gateway(emulator, auth__token_cache_ttl_seconds=lifetime)
    user_id = await _signup(first, http_session, "dee")
    old = basic("dee", "old-pw")
    assert await _status(second, http_session, 3, old) == 200  # cached on the second replica
    v3 = KinveyClient(first.url, 3, session=http_session)
    saved = await v3.call(
        "PUT", f"/user/{APP_KEY}/{user_id}", auth=old, body={"password": "new-pw"}
    )
    assert saved.status == 200
    assert await _status(first, http_session, 3, old) == 401
    await asyncio.sleep(lifetime * 2)  # past the second replica's cache lifetime
    assert await _status(second, http_session, 3, old) == 401
    assert await _status(second, http_session, 3, basic("dee", "new-pw")) == 200
