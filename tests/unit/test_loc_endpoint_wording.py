"""A v3 app calling the old `*-loc` file endpoints through the gateway is told about its own
version, not about the upstream pin it never chose (the emulator answers at the pin)."""

from __future__ import annotations

import aiohttp

from tests.changes.support import StartEmulator
from tests.conftest import APP_KEY, APP_SECRET, StartGateway


async def test_a_v3_client_is_not_told_about_version_6(
    start_emulator: StartEmulator, start_gateway: StartGateway
) -> None:
    emulator = await start_emulator(min_api_version=6, max_api_version=6)
    gateway = await start_gateway(emulator, pin=6)
    headers = {
        "X-Kinvey-API-Version": "3",
        "Authorization": aiohttp.encode_basic_auth(APP_KEY, APP_SECRET),
    }
    url = f"{gateway.url}/blob/{APP_KEY}/download-loc/a.txt"
    async with aiohttp.ClientSession() as client, client.get(url, headers=headers) as r:
        status, body = r.status, await r.json()
    assert (status, body["error"]) == (400, "FeatureUnavailable")
    assert body["debug"] == (
        "The upload-loc/download-loc/remove-loc endpoints do not exist from API version 3 on; "
        "use the Files API (POST /blob/:appKey)"
    )
