"""The version matrix: every client version N (0..6), upstream pin M (3..6) and scenario.

Each scenario runs (a) against the reference emulator serving N directly and (b) through a
gateway pinned to M in front of an emulator that serves only M; the client-visible results
must be equal, except for the pairs ``divergences.py`` lists with the spec's reason. See
``docs/version-matrix.md``. Run alone: ``.venv/bin/python -m pytest tests/e2e -n 2 --dist
loadgroup -q`` (or ``-k v1-via-pin6-deletes`` for one pair).

Servers live for the module (one set per worker); each pin is its own xdist group so the two
workers split the pins. The reference runs are cached per (scenario, N).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.e2e.client import SetupFailed
from tests.e2e.compare import differences
from tests.e2e.normalize import Observation
from tests.e2e.scenarios import BY_NAME, CLIENT_VERSIONS, PINS, SCENARIOS, Scenario, run_scenario
from tests.e2e.servers import MatrixServers

pytestmark = pytest.mark.asyncio(loop_scope="module")

_REFERENCE_RUNS: dict[tuple[str, int], list[Observation]] = {}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def servers() -> AsyncIterator[MatrixServers]:
    running = MatrixServers()
    try:
        yield running
    finally:
        await running.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


async def _reference_run(
    servers: MatrixServers, http: aiohttp.ClientSession, scenario: Scenario, version: int
) -> list[Observation]:
    key = (scenario.name, version)
    if key not in _REFERENCE_RUNS:
        url = await servers.reference_url()
        _REFERENCE_RUNS[key] = await run_scenario(scenario, http, url, version)
    return _REFERENCE_RUNS[key]


def _pairs() -> list[Any]:
    return [
        pytest.param(
            client,
            pin,
            scenario.name,
            id=f"v{client}-via-pin{pin}-{scenario.name}",
            marks=pytest.mark.xdist_group(f"version-matrix-pin{pin}"),
        )
        for pin in PINS
        for client in CLIENT_VERSIONS
        for scenario in SCENARIOS
    ]


@pytest.mark.parametrize(("client", "pin", "scenario_name"), _pairs())
async def test_gateway_answers_like_the_clients_version(
    servers: MatrixServers,
    http: aiohttp.ClientSession,
    client: int,
    pin: int,
    scenario_name: str,
) -> None:
    scenario = BY_NAME[scenario_name]
    title = f"v{client} client through a gateway pinned to {pin}, scenario {scenario.name}"
    try:
        expected = await _reference_run(servers, http, scenario, client)
    except SetupFailed as exc:
        pytest.fail(f"{title}: setup failed on the reference emulator: {exc}", pytrace=False)
    try:
        got = await run_scenario(scenario, http, await servers.gateway_url(pin), client)
    except SetupFailed as exc:
        pytest.fail(f"{title}: setup failed through the gateway: {exc}", pytrace=False)
    problems = differences(scenario.name, client, pin, expected, got)
    if problems:
        pytest.fail(f"{title}:\n" + "\n".join(problems), pytrace=False)
