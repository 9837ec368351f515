"""Fixtures for the end-to-end version-change cases: a real gateway in front of the emulator.

``start_gateway_on_emulator(pin, versions=(oldest, newest), **settings)`` starts the emulator
(serving ``oldest``..``newest``, by default ``pin`` only) and a gateway pinned to ``pin`` in
front of it; ``http_session`` is one aiohttp session for the test's clients.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.changes.support import StartEmulator, StartGatewayOnEmulator
from tests.conftest import RunningGateway, StartGateway


@pytest.fixture
def start_gateway_on_emulator(
    start_emulator: StartEmulator, start_gateway: StartGateway
) -> StartGatewayOnEmulator:
    async def start(
        pin: int, *, versions: tuple[int, int] | None = None, **settings: Any
    ) -> RunningGateway:
        oldest, newest = versions or (pin, pin)
        emulator = await start_emulator(min_api_version=oldest, max_api_version=newest)
        return await start_gateway(emulator, pin=pin, **settings)

    return start


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
