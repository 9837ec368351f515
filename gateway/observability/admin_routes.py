"""Admin listener routes: ``/metrics`` (Prometheus text) and the built-in live dashboard.

The dashboard is one self-contained HTML file (inline CSS and JS, no external requests; the
Content-Security-Policy below enforces that in the browser) that polls
``/dashboard/data.json`` on the same listener.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.aiohttp import make_aiohttp_handler

from gateway.observability.dashboard_data import dashboard_snapshot

_DASHBOARD_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _dashboard_html() -> bytes:
    return resources.files("gateway.observability").joinpath("dashboard.html").read_bytes()


def add_observability_routes(
    app: web.Application,
    registry: CollectorRegistry,
    *,
    upstream_api_version: int,
    newest_api_version: int,
) -> None:
    page = _dashboard_html()  # read once: a missing file fails at start, not on first view

    async def dashboard(_request: web.Request) -> web.Response:
        return web.Response(
            body=page, content_type="text/html", charset="utf-8", headers=_DASHBOARD_HEADERS
        )

    async def dashboard_data(_request: web.Request) -> web.Response:
        snapshot = dashboard_snapshot(
            registry,
            upstream_api_version=upstream_api_version,
            newest_api_version=newest_api_version,
        )
        return web.json_response(snapshot, headers={"Cache-Control": "no-store"})

    app.router.add_get("/metrics", make_aiohttp_handler(registry))
    app.router.add_get("/dashboard", dashboard)
    app.router.add_get("/dashboard/data.json", dashboard_data)
