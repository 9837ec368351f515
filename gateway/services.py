"""Services the version changes use, built once per gateway from the settings.

Version changes reach them through ``ExchangeContext.service(Type)``; gateway-served routes
(``gateway.file``: the signed URLs handed to old clients) are answered by local handlers.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gateway.changes import BUNDLE
from gateway.http.gateway_files import GatewayFiles
from gateway.http.storage_probe import StorageProbe
from gateway.http.upstream import UpstreamClient
from gateway.kinvey.auth import AuthExchanges
from gateway.kinvey.file_tickets import StorageCheck
from gateway.kinvey.session_cache import TokenCache
from gateway.kinvey.signing import UrlSigner
from gateway.settings import Settings
from gateway.versioning.context import Services

LocalHandler = Callable[[web.BaseRequest, Any], Awaitable[web.StreamResponse]]


def build_services(
    settings: Settings,
    metrics: Any,
    upstream: UpstreamClient | None = None,
    storage: UpstreamClient | None = None,
) -> tuple[Services, dict[str, LocalHandler]]:
    """``upstream`` (the gateway's pooled client) enables the gateway-served routes;
    ``storage`` (the file storage client, default: ``upstream``) reaches file storage."""
    services = Services()
    local_handlers: dict[str, LocalHandler] = {}
    services.register(
        TokenCache(settings["auth.token_cache_size"], settings["auth.token_cache_ttl_seconds"])
    )
    # Without a configured secret, URLs this process hands out only work on this process
    # (the CLI warns about it: several replicas need a shared secret).
    signing_secret = settings.url_signing_secret or secrets.token_hex(32)
    signer = UrlSigner(
        signing_secret.encode(),
        settings["url_signing.ttl_seconds"],
        previous=[secret.encode() for secret in settings.url_signing_previous_secrets],
    )
    services.register(signer)
    services.register(AuthExchanges(metrics.auth_exchange))
    if upstream is not None:
        storage = storage or upstream
        probe = StorageProbe(storage, metrics.storage_finished)
        services.register(probe)
        services.register(StorageCheck(probe.missing))
        local_handlers["gateway.file"] = GatewayFiles(
            settings, metrics, services, upstream, signer, BUNDLE, storage
        )
    return services, local_handlers
