"""Shared fixtures: real servers on 127.0.0.1 (port 0) — a gateway, the emulator, fake upstreams.

``start_gateway(upstream_url, **settings)`` starts a real GatewayRuntime (both listeners) and
returns a handle with ``url``, ``admin_url``, ``runtime`` and ``registry``; ``start_emulator``
starts the built-in emulator; ``start_upstream(app)`` serves any aiohttp app. All are stopped
at the end of the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway.settings import load_settings

if TYPE_CHECKING:
    from gateway.app import GatewayRuntime

APP_KEY = "kid_test"
APP_SECRET = "test-app-secret"
MASTER_SECRET = "test-master-secret"


@dataclass
class RunningGateway:
    runtime: GatewayRuntime
    registry: CollectorRegistry

    @property
    def url(self) -> str:
        assert self.runtime.proxy_address
        host, port = self.runtime.proxy_address
        return f"http://{host}:{port}"

    @property
    def admin_url(self) -> str:
        assert self.runtime.admin_address
        host, port = self.runtime.admin_address
        return f"http://{host}:{port}"


StartGateway = Callable[..., Awaitable[RunningGateway]]


@pytest.fixture
async def start_gateway() -> AsyncIterator[StartGateway]:
    started: list[GatewayRuntime] = []

    async def start(
        upstream_url: str,
        pin: int = 6,
        environ: dict[str, str] | None = None,
        config_file: str | None = None,
        **settings: Any,
    ) -> RunningGateway:
        from gateway.app import GatewayRuntime

        overrides: dict[str, Any] = {
            "upstream.url": upstream_url,
            "upstream.api_version": pin,
            "listen": "127.0.0.1:0",
            "admin_listen": "127.0.0.1:0",
            "logging.access_log": False,
            "shutdown.drain_seconds": 0.01,
            "shutdown.timeout_seconds": 2,
        }
        overrides.update({key.replace("__", "."): value for key, value in settings.items()})
        env = {
            f"KINVEY_GATEWAY_APP_SECRET_{APP_KEY}": APP_SECRET,
            "KINVEY_GATEWAY_URL_SIGNING_SECRET": "test-url-signing-secret",
        }
        env.update(environ or {})
        registry = CollectorRegistry()
        runtime = GatewayRuntime(load_settings(config_file, env, overrides), registry=registry)
        await runtime.start()
        started.append(runtime)
        return RunningGateway(runtime, registry)

    yield start
    for runtime in started:
        await runtime.stop()


StartUpstream = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def start_upstream() -> AsyncIterator[StartUpstream]:
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def start_emulator(start_upstream: StartUpstream) -> Callable[..., Awaitable[str]]:
    async def start(**config: Any) -> str:
        from gateway.emulator import EmulatorConfig, create_emulator_app

        defaults: dict[str, Any] = {
            "app_key": APP_KEY,
            "app_secret": APP_SECRET,
            "master_secret": MASTER_SECRET,
        }
        defaults.update(config)
        defaults.setdefault("default_api_version", defaults.get("max_api_version", 6))
        return await start_upstream(create_emulator_app(EmulatorConfig(**defaults)))

    return start


# Tests that need programs from outside the virtualenv (Node.js/npm, kubectl, Debian's
# Prometheus and Chromium, nginx/wrk): the fixtures install what apt can, the README lists the
# rest. `make check` (the fast loop) leaves them out with `-m "not slow and not tools"`.
NEEDS_TOOLS = (
    "tests/sdk/",  # node, npm (npm ci of three SDK flavours)
    "tests/deploy/",  # kubectl kustomize; checkov in its own virtualenv
    "tests/bench/test_bench_tools.py",  # nginx, wrk
    "tests/observability/test_obs_alert_rules.py",  # promtool
    "tests/observability/test_obs_dashboard_browser.py",  # chromium
    "tests/observability/test_obs_grafana_dashboard.py",  # npm (TypeScript, @grafana/schema)
    "tests/observability/test_obs_live_prometheus.py",  # prometheus
    "tests/observability/test_obs_metrics.py::test_exposition_passes_promtool_check_metrics",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(NEEDS_TOOLS):
            item.add_marker(pytest.mark.tools)
