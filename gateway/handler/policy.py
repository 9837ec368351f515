"""An app's policy: where its requests go (its upstream and the version pinned there), which
client versions it serves, and whether a client release is retired.

The target is one choice for every request path (the proxy and the gateway's own file URLs),
made once per app at start: the request path only looks the app up.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from gateway.exchange import Exchange
from gateway.kinvey.client_identity import identify
from gateway.kinvey.errors import KinveyError
from gateway.kinvey.release_policy import REFUSED, retired_error, retirement_verdict
from gateway.observability.metrics import Metrics
from gateway.settings import Settings
from gateway.settings_apps import AppPolicy


@dataclass(frozen=True, slots=True)
class AppTarget:
    app: AppPolicy | None  # None: an app key the config does not name
    base_url: str  # the upstream's base URL
    pin: int  # the version the upstream is called at
    default_version: int  # a request without the version header is served as this version
    min_version: int  # older client versions are refused


def app_target(settings: Settings, app: AppPolicy | None) -> AppTarget:
    pin = (app.upstream_api_version if app else None) or settings.upstream_api_version
    default = app.default_client_api_version if app else None
    if default is None:
        default = settings.default_client_api_version
    return AppTarget(
        app,
        # serve refuses to start without an upstream (require_upstream)
        (app.upstream_url if app else None) or settings.upstream.url or "",
        pin,
        pin if default is None else default,
        app.min_client_api_version if app else 0,
    )


class AppTargets:
    """Every configured app's target, and the one for any other app key."""

    __slots__ = ("by_key", "other")

    def __init__(self, settings: Settings) -> None:
        self.by_key = {key: app_target(settings, app) for key, app in settings.apps.items()}
        self.other = app_target(settings, None)

    def of(self, app_key: str | None) -> AppTarget:
        return self.by_key.get(app_key or "", self.other)


def retired(
    request: web.BaseRequest, exchange: Exchange, app: AppPolicy, metrics: Metrics
) -> KinveyError | None:
    """The answer for a retired app release (release_policy), or None to serve it."""
    identity = exchange.identity = identify(request.headers)
    minimum = app.min_client_app_version
    verdict = exchange.refusal = retirement_verdict(identity.app_release, minimum, app.report_only)
    if verdict != REFUSED or minimum is None:
        return None
    metrics.gateway_error("release_retired")
    return retired_error(identity.app_release, minimum, app.retired_message)
