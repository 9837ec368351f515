"""Retiring an app release: apps.<appKey>.min_client_app_version, retired_message, report_only.

A real gateway in front of the real emulator (serving API versions 0..6). A retired release is
answered by the gateway in its client API version's error shape, and the upstream is never
called (the gateway's own kgw_upstream_requests_total does not move); releases at or above the
minimum, requests without the header and unparsable values are served as usual.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from tests.conftest import APP_KEY, APP_SECRET, RunningGateway, StartGateway

MESSAGE = "Version 2.3 is no longer supported: please update the app from the store."
APP_AUTH = aiohttp.encode_basic_auth(APP_KEY, APP_SECRET)


def config(tmp_path: Path, **policy: object) -> str:
    path = tmp_path / "gateway.yaml"
    path.write_text(json.dumps({"apps": {APP_KEY: {"min_client_app_version": "2.4", **policy}}}))
    return str(path)


async def ping(
    gateway: RunningGateway, version: int, release: str | None
) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": APP_AUTH, "X-Kinvey-API-Version": str(version)}
    if release is not None:
        headers["X-Kinvey-Client-App-Version"] = release
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{gateway.url}/appdata/{APP_KEY}", headers=headers) as response,
    ):
        return response.status, dict(response.headers), await response.json(content_type=None)


def upstream_calls(registry: CollectorRegistry) -> float:
    return sum(
        sample.value
        for family in registry.collect()
        if family.name == "kgw_upstream_requests"
        for sample in family.samples
        if sample.name == "kgw_upstream_requests_total"
    )


@pytest.mark.parametrize("version", range(7))
async def test_a_retired_release_is_refused_in_its_versions_shape_without_the_upstream(
    start_gateway: StartGateway, start_emulator: Any, tmp_path: Path, version: int
) -> None:
    emulator = await start_emulator()
    gateway = await start_gateway(
        emulator, pin=6, config_file=config(tmp_path, retired_message=MESSAGE)
    )

    status, headers, body = await ping(gateway, version, "2.3.9")

    assert status == 400
    assert headers["X-Kinvey-API-Version"] == str(version)
    assert headers["Content-Type"].startswith("application/json")
    if version == 0:  # before standardized errors: the message is the error
        assert body == {"error": MESSAGE}
    else:
        assert body == {
            "error": "FeatureUnavailable",
            "description": MESSAGE,
            "debug": "app release 2.3.9 is retired for this app; the oldest served is 2.4.0",
        }
    assert upstream_calls(gateway.registry) == 0

    for served in ("2.4.0", "2.4", "2.10.0", "v3", None, "nightly", "2.3.9.1"):
        status, _, body = await ping(gateway, version, served)
        assert status == 200, (served, body)
    assert upstream_calls(gateway.registry) == 7
    value = gateway.registry.get_sample_value
    refused = {"app_release": "2.3.9", "mode": "refused"}
    assert value("kgw_client_release_refusals_total", refused) == 1
    assert value("kgw_gateway_errors_total", {"reason": "release_retired"}) == 1
    seen = {"app_release": "2.3.9", "sdk": "unknown", "api_version": str(version)}
    assert value("kgw_client_releases_total", seen) == 1


async def test_without_a_message_the_default_asks_to_update(
    start_gateway: StartGateway, start_emulator: Any, tmp_path: Path
) -> None:
    gateway = await start_gateway(await start_emulator(), config_file=config(tmp_path))
    status, _, body = await ping(gateway, 6, "1.0")
    assert status == 400 and body["error"] == "FeatureUnavailable"
    assert "Please update the app" in body["description"]


async def test_report_only_counts_what_would_be_refused_and_serves_it(
    start_gateway: StartGateway, start_emulator: Any, tmp_path: Path
) -> None:
    gateway = await start_gateway(
        await start_emulator(), config_file=config(tmp_path, report_only=True)
    )
    for version in range(7):
        status, _, body = await ping(gateway, version, "2.3.9")
        assert status == 200, body
    await ping(gateway, 6, "2.4.0")
    await ping(gateway, 6, None)

    value = gateway.registry.get_sample_value
    would = {"app_release": "2.3.9", "mode": "report_only"}
    assert value("kgw_client_release_refusals_total", would) == 7
    assert value("kgw_client_release_refusals_total", {**would, "mode": "refused"}) is None
    assert value("kgw_client_release_refusals_total", {**would, "app_release": "2.4.0"}) is None
    assert value("kgw_gateway_errors_total", {"reason": "release_retired"}) == 0
    assert upstream_calls(gateway.registry) == 9


async def test_a_bad_minimum_is_a_config_error(tmp_path: Path) -> None:
    from gateway.settings import ConfigError, load_settings

    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps({"apps": {APP_KEY: {"min_client_app_version": "soon"}}}))
    with pytest.raises(ConfigError, match=r"apps\.kid_test\.min_client_app_version: expected"):
        load_settings(str(path), {})
