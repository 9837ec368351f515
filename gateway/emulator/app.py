"""The emulator as an aiohttp application: version resolution, routing, Kinvey headers.

Every Kinvey response echoes ``X-Kinvey-API-Version`` (when numeric) and carries a fresh
``X-Kinvey-Request-Id``; errors take the shape of the request's version. Storage URLs
(``/_storage/...``) are not Kinvey API and skip all of that. Every answer carries Kinvey's CORS
headers, and CORS preflights are answered before anything else (``cors.py``).
"""

from __future__ import annotations

import logging
import uuid

from aiohttp import web

from gateway.emulator import cors
from gateway.emulator.config import EmulatorConfig
from gateway.emulator.responses import error_response, method_not_allowed, not_found_route
from gateway.emulator.routes import ROUTES
from gateway.emulator.routing import JSON_BODY_LIMIT, Call, find_route, split_path
from gateway.emulator.storage import STORAGE_PREFIX, handle_storage
from gateway.emulator.store import EmulatorStore
from gateway.emulator.versions import VersionRefused, resolve_api_version
from gateway.kinvey.errors import KinveyError

CONFIG_KEY = web.AppKey("emulator_config", EmulatorConfig)
STORE_KEY = web.AppKey("emulator_store", EmulatorStore)
VERSION_HEADER = "X-Kinvey-API-Version"
REQUEST_ID_HEADER = "X-Kinvey-Request-Id"

log = logging.getLogger("gateway.emulator")


async def _serve(request: web.Request, call: Call) -> web.StreamResponse:
    segments = split_path(request.rel_url.raw_path)
    # HEAD is a GET without the body (aiohttp leaves the body out of a HEAD answer).
    method = "GET" if request.method == "HEAD" else request.method
    found = find_route(ROUTES, method, segments)
    if found is None:
        raise not_found_route(request.method, request.rel_url.path)
    app_key = found.params.get("appKey")
    if app_key is not None and app_key != call.config.app_key:
        raise KinveyError("AppNotFound", debug=f"No app with key {app_key!r} on this backend")
    if found.handler is None:
        raise method_not_allowed(request.method, request.rel_url.path)
    call.params = found.params
    return await found.handler(call)


async def _dispatch(request: web.Request) -> web.StreamResponse:
    # Preflights carry no version header or credentials: answered before any of that (storage
    # URLs too, as a storage bucket configured for browser uploads does).
    preflight = cors.preflight(request)
    if preflight is not None:
        return preflight
    response = await _answer(request)
    cors.allow_cross_origin(response)
    return response


async def _answer(request: web.Request) -> web.StreamResponse:
    store = request.app[STORE_KEY]
    if request.rel_url.path.startswith(STORAGE_PREFIX):
        return await handle_storage(request, store)
    config = request.app[CONFIG_KEY]
    resolved = resolve_api_version(request.headers.get(VERSION_HEADER), config)
    response: web.StreamResponse
    if isinstance(resolved, VersionRefused):
        # Refused versions get the structured (v1+) body even when they look like v0.
        response, echo = error_response(resolved.error, None), resolved.echo
    else:
        echo = resolved
        try:
            response = await _serve(request, Call(request, resolved, config, store))
        except KinveyError as error:
            response = error_response(error, resolved)
        except Exception:
            log.exception("emulator: unexpected error on %s %s", request.method, request.path)
            response = error_response(
                KinveyError("KinveyInternalErrorStop", debug="Unexpected emulator error"),
                resolved,
            )
    if echo is not None:
        response.headers[VERSION_HEADER] = str(echo)
    response.headers[REQUEST_ID_HEADER] = uuid.uuid4().hex
    return response


def create_emulator_app(config: EmulatorConfig | None = None) -> web.Application:
    """A fresh in-memory Kinvey backend serving ``config`` (defaults when None)."""
    app = web.Application(client_max_size=JSON_BODY_LIMIT)
    app[CONFIG_KEY] = config or EmulatorConfig()
    app[STORE_KEY] = EmulatorStore()
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app
