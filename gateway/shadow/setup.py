"""Build shadow comparison from the settings and attach it to the gateway and the admin app."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway.settings import Settings
from gateway.shadow.bridge import ShadowHost, fetcher
from gateway.shadow.record import ShadowRecorder
from gateway.shadow.runner import ShadowConfig, ShadowRunner


def shadow_config(settings: Settings) -> ShadowConfig | None:
    """The shadow settings, or None when no candidate version is configured (the default)."""
    shadow = settings.shadow
    if shadow.candidate_api_version is None:
        return None
    return ShadowConfig(
        candidate_pin=shadow.candidate_api_version,
        sample_ratio=shadow.sample_ratio,
        max_concurrency=shadow.max_concurrency,
        routes=frozenset(shadow.routes.split(",")) - {""},
        max_body_bytes=shadow.max_body_bytes,
        calls_per_second=shadow.max_calls_per_second,
        timeout_seconds=shadow.timeout_seconds,
        upstream_url=shadow.upstream_url,
        app_upstream_urls={
            key: app.shadow_upstream_url
            for key, app in settings.apps.items()
            if app.shadow_upstream_url
        },
    )


def attach_shadow(
    gateway: ShadowHost, settings: Settings, registry: CollectorRegistry | None
) -> ShadowRunner | None:
    config = shadow_config(settings)
    if config is None:
        return None
    recorder = ShadowRecorder(
        registry,
        candidate_pin=config.candidate_pin,
        newest_api_version=gateway.newest,
        ring_size=settings.shadow.samples_kept,
        show_values=settings.shadow.show_values,
    )

    def overloaded() -> bool:
        # Shed first: shadow work stops while half the client request budget is in use.
        return gateway.in_flight * 2 > gateway.max_in_flight

    gateway.shadow = ShadowRunner(config, recorder, fetcher(gateway), overloaded)
    return gateway.shadow


def add_shadow_route(app: web.Application, shadow: ShadowRunner | None) -> None:
    """``GET /shadow``: totals, learned noise and recent (redacted) differences as JSON."""

    async def report(_request: web.Request) -> web.Response:
        if shadow is None:
            body: dict[str, object] = {"enabled": False}
        else:
            body = {
                "enabled": True,
                "candidate_api_version": shadow.config.candidate_pin,
                "sample_ratio": shadow.config.sample_ratio,
                **shadow.recorder.snapshot(),
            }
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    app.router.add_get("/shadow", report)
