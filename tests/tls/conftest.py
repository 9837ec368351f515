"""TLS test helpers: an HTTPS emulator upstream and a handshake through the gateway."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web

from gateway.emulator import EmulatorConfig, create_emulator_app
from tests.conftest import APP_KEY, APP_SECRET, MASTER_SECRET

AUTH = aiohttp.encode_basic_auth(APP_KEY, APP_SECRET)
ServeTls = Callable[..., Awaitable[int]]


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def serve_tls() -> AsyncIterator[ServeTls]:
    runners: list[web.AppRunner] = []

    async def serve(context: ssl.SSLContext, **emulator: Any) -> int:
        config = EmulatorConfig(
            app_key=APP_KEY, app_secret=APP_SECRET, master_secret=MASTER_SECRET, **emulator
        )
        runner = web.AppRunner(create_emulator_app(config), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
        runners.append(runner)
        return int(runner.addresses[0][1])

    yield serve
    for runner in runners:
        await runner.cleanup()


def server_context(cert: trustme.LeafCert, client_ca: trustme.CA | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    if client_ca is not None:
        client_ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


async def handshake(gateway_url: str, version: str = "3") -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": AUTH, "X-Kinvey-API-Version": version}
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{gateway_url}/appdata/{APP_KEY}", headers=headers) as response,
    ):
        return response.status, await response.json()
