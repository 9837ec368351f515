"""Admin endpoints for the orchestrator: liveness is cheap, readiness follows the lifecycle."""

from __future__ import annotations

from aiohttp import web

READY = web.AppKey("ready", list)  # one-element list: mutable flag shared with the lifecycle


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if request.app[READY][0]:
        return web.json_response({"status": "ready"})
    return web.json_response({"status": "not ready"}, status=503)


def add_health_routes(app: web.Application, ready: list[bool]) -> None:
    app[READY] = ready
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
