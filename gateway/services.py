"""Services the version changes use, built once per gateway from the settings.

Version changes reach them through ``ExchangeContext.service(Type)``; the gateway's own file
URLs (``gateway.handler.files``) use the URL signer.
"""

from __future__ import annotations

import secrets

from gateway.http.storage_probe import StorageProbe
from gateway.http.upstream import UpstreamClient
from gateway.kinvey.auth import AuthExchanges
from gateway.kinvey.file_tickets import StorageCheck
from gateway.kinvey.session_cache import TokenCache
from gateway.kinvey.signing import UrlSigner
from gateway.observability.metrics import Metrics
from gateway.settings import Settings
from gateway.versioning.context import Services


def build_services(
    settings: Settings,
    metrics: Metrics,
    upstream: UpstreamClient | None = None,
    storage: UpstreamClient | None = None,
) -> Services:
    """``upstream`` (the gateway's pooled client) enables the storage probe; ``storage`` (the
    file storage client, default: ``upstream``) reaches file storage."""
    services = Services()
    services.register(
        TokenCache(settings.auth.token_cache_size, settings.auth.token_cache_ttl_seconds)
    )
    # Without a configured secret, URLs this process hands out only work on this process
    # (the CLI warns about it: several replicas need a shared secret).
    signing_secret = settings.url_signing_secret or secrets.token_hex(32)
    signer = UrlSigner(
        signing_secret.encode(),
        settings.url_signing.ttl_seconds,
        previous=[secret.encode() for secret in settings.url_signing_previous_secrets],
    )
    services.register(signer)
    services.register(AuthExchanges(metrics.auth_exchange))
    if upstream is not None:
        storage = storage or upstream
        probe = StorageProbe(storage, metrics.storage_finished)
        services.register(probe)
        services.register(StorageCheck(probe.missing))
    return services
