"""Fixtures for the emulator tests: real emulator apps on 127.0.0.1 via pytest-aiohttp."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.emulator import EmulatorConfig, create_emulator_app
from tests.emulator.emulator_helpers import Api, MakeApi


@pytest.fixture
def make_api(aiohttp_client: Any) -> MakeApi:
    async def make(**config_fields: Any) -> Api:
        config = EmulatorConfig(**config_fields)
        client = await aiohttp_client(create_emulator_app(config))
        return Api(client, config)

    return make


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    return await make_api()
