"""Where an app's requests go: its upstream, the version pinned there and its version policy.

One choice for every request path (the proxy and the gateway's own file URLs), made once per
app at start: the request path only looks the app up.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.settings import AppPolicy, Settings


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
        default = settings["default_client_api_version"]
    return AppTarget(
        app,
        (app.upstream_url if app else None) or settings["upstream.url"],
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
