"""The gateway process: build the parts from Settings, serve, and drain gracefully.

Two listeners: the proxy (aiohttp's low-level server — no router, every path is ours) and the
admin app (health, readiness, metrics, dashboard). On SIGTERM the gateway fails ``/readyz`` at
once, answers every request with ``Connection: close`` (see ``http.server``), keeps serving for
``shutdown.drain_seconds`` (endpoints take time to stop routing to
the pod), stops accepting, lets in-flight requests finish up to ``shutdown.timeout_seconds``,
closes the upstream pool and returns 0. A second SIGTERM (or SIGINT) cuts the drain short.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import ssl

from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway import __version__
from gateway.changes import BUNDLE
from gateway.config_values import split_address
from gateway.exchange import malformed_request_answer
from gateway.health import add_health_routes
from gateway.http.server import CappedServer
from gateway.http.upstream import UpstreamClient
from gateway.kinvey.version_header import newest_known_version
from gateway.observability.access_log import AccessLogger
from gateway.observability.admin_routes import add_observability_routes
from gateway.observability.metrics import Metrics
from gateway.observability.null_metrics import NullMetrics
from gateway.proxy import Gateway
from gateway.services import build_services
from gateway.settings import Settings
from gateway.settings_sections import Storage, Upstream
from gateway.shadow.setup import add_shadow_route, attach_shadow
from gateway.tls_setup import listener_tls, storage_tls, upstream_tls

log = logging.getLogger("gateway")


class GatewayRuntime:
    def __init__(
        self,
        settings: Settings,
        *,
        registry: CollectorRegistry | None = None,
        tune_gc: bool = False,
    ) -> None:
        self.settings = settings
        self.tune_gc = tune_gc
        self.registry = registry if registry is not None else CollectorRegistry()
        pin = settings.upstream_api_version
        self.newest_api_version = newest_known_version(BUNDLE.newest_version)
        self.metrics: Metrics = (
            Metrics(
                self.registry,
                version=__version__,
                upstream_api_version=pin,
                tls_verify=_tls_verify(settings),
                newest_api_version=self.newest_api_version,
                release_top_k=settings.metrics.client_release_top_k,
            )
            if settings.metrics.enabled
            else NullMetrics()
        )
        self.upstream = _client(settings, settings.upstream, upstream_tls(settings), self.metrics)
        # File storage is not the upstream: its own trust, timeouts and pool (see tls.py).
        self.storage = _client(settings, settings.storage, storage_tls(settings), NullMetrics())
        self.metrics.register_changes(change.__qualname__ for change in BUNDLE.changes)
        services = build_services(settings, self.metrics, self.upstream, self.storage)
        self.gateway = Gateway(
            settings,
            BUNDLE,
            self.upstream,
            self.metrics,
            AccessLogger(enabled=settings.logging.access_log, fmt=settings.logging.format),
            services,
            self.storage,
        )
        metrics_registry = self.registry if settings.metrics.enabled else None
        self.shadow = attach_shadow(self.gateway, settings, metrics_registry)
        self.listener_tls = listener_tls(settings)
        self.ready = [False]
        self.proxy_address: tuple[str, int] | None = None
        self.admin_address: tuple[str, int] | None = None
        self._proxy_server: CappedServer | None = None
        self._proxy_runner: web.ServerRunner | None = None
        self._admin_runner: web.AppRunner | None = None
        self._stop = asyncio.Event()
        self._drain_cut = asyncio.Event()

    def _admin_app(self) -> web.Application:
        app = web.Application()
        add_health_routes(app, self.ready)
        add_shadow_route(app, self.shadow)
        if self.settings.metrics.enabled:
            add_observability_routes(
                app,
                self.registry,
                upstream_api_version=self.settings.upstream_api_version,
                newest_api_version=self.newest_api_version,
            )
        return app

    async def start(self) -> None:
        await self.upstream.start()
        await self.storage.start()
        limit = self.settings.limits.max_header_bytes
        server = CappedServer(
            self.gateway.handle,
            max_connections=self.settings.limits.max_client_connections,
            error_answer=malformed_request_answer,
            handler_cancellation=True,
            max_line_size=limit,
            max_field_size=limit,
            keepalive_timeout=self.settings.limits.client_idle_timeout_seconds,
            access_log=None,
        )
        self._proxy_server = server
        self._proxy_runner = web.ServerRunner(
            server,
            handle_signals=False,
            shutdown_timeout=self.settings.shutdown.timeout_seconds,
        )
        await self._proxy_runner.setup()
        host, port = split_address(self.settings.listen)
        listener_ssl = self.listener_tls.context if self.listener_tls else None
        proxy_site = web.TCPSite(
            self._proxy_runner, host, port, ssl_context=listener_ssl, backlog=1024
        )
        await proxy_site.start()
        self.proxy_address = _bound_address(self._proxy_runner)
        self._admin_runner = web.AppRunner(
            self._admin_app(), handle_signals=False, access_log=None, shutdown_timeout=2.0
        )
        await self._admin_runner.setup()
        host, port = split_address(self.settings.admin_listen)
        await web.TCPSite(self._admin_runner, host, port).start()
        self.admin_address = _bound_address(self._admin_runner)
        if self.listener_tls:
            self.listener_tls.start()
        if self.tune_gc:
            tune_gc_for_serving()
        self.ready[0] = True

    def request_stop(self) -> None:
        """First call starts the drain; a second one cuts it short."""
        if self._stop.is_set():
            self._drain_cut.set()
        self.ready[0] = False
        if self._proxy_server is not None:
            self._proxy_server.draining = True  # every answer from now on says Connection: close
        self._stop.set()

    async def wait_and_drain(self) -> None:
        await self._stop.wait()
        log.info("stopping: draining for %.1fs", self.settings.shutdown.drain_seconds)
        try:
            await asyncio.wait_for(self._drain_cut.wait(), self.settings.shutdown.drain_seconds)
            log.warning("second stop signal: ending the drain now")
        except TimeoutError:
            pass
        await self.stop()

    async def stop(self) -> None:
        self.ready[0] = False
        if self._proxy_runner is not None:
            cut = asyncio.ensure_future(self._drain_cut.wait())
            cleanup = asyncio.ensure_future(self._proxy_runner.cleanup())
            await asyncio.wait({cut, cleanup}, return_when=asyncio.FIRST_COMPLETED)
            cut.cancel()
            if not cleanup.done():
                cleanup.cancel()
            self._proxy_runner = None
        if self.shadow is not None:
            await self.shadow.close()
        await self.upstream.close()
        await self.storage.close()
        if self.listener_tls:
            await self.listener_tls.stop()
        self.gateway.access_log.close()  # flush the last lines
        if self._admin_runner is not None:
            await self._admin_runner.cleanup()
            self._admin_runner = None

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)


# Objects per request are freed by reference counting, yet with CPython's default threshold
# (700) the transient allocations of a few requests trigger a young-generation collection
# every couple of milliseconds, and full collections scan every module object (20-30 ms
# pauses). Profile: 7-10% of the CPU in gc_collect_main and most of the p99 tail.
GC_GEN0_THRESHOLD = 10_000


def tune_gc_for_serving() -> None:
    """Freeze what start-up made (never scanned again) and collect the young less often.

    Cyclic garbage still goes: at most ~10k tracked objects wait for the next collection.
    """
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


def _tls_verify(settings: Settings) -> bool | None:
    """Whether upstream certificates are verified; None when every upstream is plain http://."""
    apps = settings.apps.values()
    urls = [settings.upstream.url, *(app.upstream_url for app in apps)]
    if not any(url and url.startswith("https://") for url in urls):
        return None
    return not settings.upstream.tls.dangerously_disable_verification


def _client(
    settings: Settings, pool: Upstream | Storage, ssl_context: ssl.SSLContext, metrics: Metrics
) -> UpstreamClient:
    """The pooled client for ``pool`` (the upstream or the file storage section of the
    settings); its connections are counted in ``metrics``."""
    return UpstreamClient(
        pool_size=pool.pool_size,
        pool_timeout=settings.upstream.pool_timeout_seconds,
        connect_timeout=pool.connect_timeout_seconds,
        read_timeout=pool.read_timeout_seconds,
        keepalive_timeout=settings.upstream.keepalive_timeout_seconds,
        ssl_context=ssl_context,
        trust_env=settings.upstream.use_env_proxy,
        on_connection_opened=metrics.connection_opened,
        on_connection_reused=metrics.connection_reused,
    )


def _bound_address(runner: web.BaseRunner) -> tuple[str, int]:
    sockets = runner.addresses
    host, port = sockets[0][:2]
    return str(host), int(port)
