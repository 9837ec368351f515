"""Services the version changes use, built once per gateway from the settings.

Version changes reach them through ``ExchangeContext.service(Type)``; gateway-served routes
(``gateway.file``: the signed URLs handed to old clients) are answered by local handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gateway.kinvey.auth import TokenCache
from gateway.settings import Settings
from gateway.versioning.context import Services

LocalHandler = Callable[[web.BaseRequest, Any], Awaitable[web.StreamResponse]]


def build_services(settings: Settings, metrics: Any) -> tuple[Services, dict[str, LocalHandler]]:
    services = Services()
    services.register(
        TokenCache(settings["auth.token_cache_size"], settings["auth.token_cache_ttl_seconds"])
    )
    return services, {}
