"""Kinvey ships v7, then v8: one change file each, and everything that names versions follows.

Two synthetic changes are added the way a maintainer adds one (a ``v<N>_*.py`` module found by
discovery), then the parts that list versions are run against them: configuration validation
through the real ``serve`` argument path, a real gateway's metric labels and built-in dashboard
data for v7 and v8 clients, and the changelog. Nothing else is edited.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway.app import GatewayRuntime
from gateway.cli import build_parser, newest_known_version, settings_from_args
from gateway.settings import ConfigError, Settings
from gateway.versioning.bundle import VersionBundle
from gateway.versioning.changelog import render_changelog
from tests.support.added_changes import add_changes
from tests.support.echo_upstream import EchoUpstream

TEMPLATE = '''"""v{n}: answers carry marker {n}."""

from gateway.versioning import ResponseInfo, VersionChange, newer, older


class Marker{n}(VersionChange):
    """Answers carry `marker{n}`

    From v{n}, entity answers carry `"marker{n}": true`; older clients do not see it.
    """

    introduced_in = {n}

    @older.response("GET", routes={{"appdata.entity"}})
    def drop(response: ResponseInfo) -> None:
        if isinstance(response.json, dict):
            response.json = {{k: v for k, v in response.json.items() if k != "marker{n}"}}

    @newer.response("GET", routes={{"appdata.entity"}})
    def add(response: ResponseInfo) -> None:
        if isinstance(response.json, dict):
            response.json = {{**response.json, "marker{n}": True}}
'''


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> VersionBundle:
    sources = {f"v{n}_answers_carry_marker{n}": TEMPLATE.format(n=n) for n in (7, 8)}
    return add_changes(tmp_path, monkeypatch, sources)


def _settings(*flags: str) -> Settings:
    args = build_parser().parse_args(["serve", "--upstream", "http://127.0.0.1:9", *flags])
    return settings_from_args(args, {"KINVEY_GATEWAY_URL_SIGNING_SECRET": "s"})


def test_config_validation_accepts_the_new_versions(bundle: VersionBundle) -> None:
    assert bundle.newest_version == newest_known_version() == 8
    for version in ("7", "8"):
        _settings("--upstream-api-version", version, "--default-client-api-version", version)
    with pytest.raises(ConfigError) as raised:
        _settings("--upstream-api-version", "9")
    assert raised.value.problems == ("--upstream-api-version: 9 is out of range 3..8",)


def test_the_changelog_has_both_versions(bundle: VersionBundle) -> None:
    changelog = render_changelog(bundle)
    assert "### Marker7" in changelog and "### Marker8" in changelog
    assert changelog.index("Marker7") < changelog.index("Marker8")  # in version order


async def test_metrics_and_dashboard_count_v7_and_v8_clients(bundle: VersionBundle) -> None:
    echo = EchoUpstream()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo.echo)
    upstream = web.AppRunner(app, access_log=None)
    await upstream.setup()
    await web.TCPSite(upstream, "127.0.0.1", 0).start()
    upstream_url = f"http://127.0.0.1:{upstream.addresses[0][1]}"
    args = build_parser().parse_args(
        ["serve", "--upstream", upstream_url, "--upstream-api-version", "7",
         "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"]
    )  # fmt: skip
    settings = settings_from_args(args, {"KINVEY_GATEWAY_LOGGING_ACCESS_LOG": "false"})
    runtime = GatewayRuntime(settings, registry=CollectorRegistry())
    await runtime.start()
    try:
        assert runtime.proxy_address and runtime.admin_address
        proxy = "http://{}:{}".format(*runtime.proxy_address)
        admin = "http://{}:{}".format(*runtime.admin_address)
        async with aiohttp.ClientSession() as client:
            bodies = {}
            for version in ("6", "7", "8", "9"):
                headers = {"X-Kinvey-API-Version": version, "Authorization": "Kinvey t"}
                async with client.get(f"{proxy}/appdata/kid_x/c/e1", headers=headers) as answer:
                    bodies[version] = (answer.status, await answer.json())
            async with client.get(f"{admin}/dashboard/data.json") as answer:
                dashboard = await answer.json()
            async with client.get(f"{admin}/metrics") as answer:
                metrics = await answer.text()
    finally:
        await runtime.stop()
        await upstream.cleanup()
    assert [status for status, _ in bodies.values()] == [200, 200, 200, 400]
    assert "marker8" not in bodies["7"][1] and bodies["8"][1]["marker8"] is True
    assert dashboard["api_versions"] == [*map(str, range(9)), "invalid"]
    assert dashboard["requests_by_api_version"] == {"6": 1, "7": 1, "8": 1, "invalid": 1}
    for version in ("7", "8", "invalid"):
        assert f'api_version="{version}"' in metrics
