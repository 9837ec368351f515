"""The matrix's servers: one reference emulator (v0-v6) and, per pin M, an M-only emulator
behind a gateway pinned to M. All on 127.0.0.1, port 0, started lazily, stopped together.

They mirror ``start_emulator`` / ``start_gateway`` of ``tests/conftest.py`` (same app key,
secrets and gateway overrides) but live for a whole module: those fixtures are per test, and
starting nine servers for each of several hundred pairs would dominate the run time. Every
scenario makes its own users, collections and files with unique names, so sharing is safe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway.emulator import EmulatorConfig, create_emulator_app
from gateway.settings import load_settings
from tests.conftest import APP_KEY, APP_SECRET, MASTER_SECRET

if TYPE_CHECKING:
    from gateway.app import GatewayRuntime

# Small, so that the result-set scenario needs only a handful of entities.
RESULT_SET_LIMIT = 5


class MatrixServers:
    def __init__(self) -> None:
        self._runners: list[web.AppRunner] = []
        self._gateways: list[GatewayRuntime] = []
        self._reference: str | None = None
        self._pinned: dict[int, str] = {}

    async def reference_url(self) -> str:
        """The emulator serving every version 0..6: what a client at N should see."""
        if self._reference is None:
            self._reference = await self._emulator(0, 6)
        return self._reference

    async def gateway_url(self, pin: int) -> str:
        """A gateway pinned to ``pin`` in front of an emulator serving only ``pin``."""
        if pin not in self._pinned:
            upstream = await self._emulator(pin, pin)
            self._pinned[pin] = await self._gateway(upstream, pin)
        return self._pinned[pin]

    async def _emulator(self, lowest: int, highest: int) -> str:
        config = EmulatorConfig(
            min_api_version=lowest,
            max_api_version=highest,
            default_api_version=highest,
            app_key=APP_KEY,
            app_secret=APP_SECRET,
            master_secret=MASTER_SECRET,
            result_set_limit=RESULT_SET_LIMIT,
        )
        runner = web.AppRunner(create_emulator_app(config), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    async def _gateway(self, upstream_url: str, pin: int) -> str:
        from gateway.app import GatewayRuntime

        overrides: dict[str, Any] = {
            "upstream.url": upstream_url,
            "upstream.api_version": pin,
            "listen": "127.0.0.1:0",
            "admin_listen": "127.0.0.1:0",
            "logging.access_log": False,
            "shutdown.drain_seconds": 0.01,
            "shutdown.timeout_seconds": 2,
            "limits.result_set_limit": RESULT_SET_LIMIT,
        }
        environ = {
            f"KINVEY_GATEWAY_APP_SECRET_{APP_KEY}": APP_SECRET,
            "KINVEY_GATEWAY_URL_SIGNING_SECRET": "test-url-signing-secret",
        }
        runtime = GatewayRuntime(
            load_settings(None, environ, overrides), registry=CollectorRegistry()
        )
        await runtime.start()
        self._gateways.append(runtime)
        assert runtime.proxy_address is not None
        host, port = runtime.proxy_address
        return f"http://{host}:{port}"

    async def stop(self) -> None:
        for runtime in self._gateways:
            await runtime.stop()
        for runner in self._runners:
            await runner.cleanup()
        self._gateways.clear()
        self._runners.clear()
