"""Every request counted once it is answered: the request metrics and its access-log line."""

from __future__ import annotations

import time

from aiohttp import web

from gateway.exchange import Exchange, loggable_path
from gateway.kinvey.client_identity import identify
from gateway.observability.access_log import AccessLogger
from gateway.observability.access_record import AccessRecord
from gateway.observability.metrics import Metrics


def record(
    metrics: Metrics,
    access_log: AccessLogger,
    pin: int,
    request: web.BaseRequest,
    exchange: Exchange,
    status: int,
    started: float,
    sent: int,
) -> None:
    """``pin`` is the upstream's default version (the access log's ``upstream_api_version``),
    ``started`` the request's ``time.monotonic()``, ``sent`` the answer's body bytes."""
    duration = time.monotonic() - started
    now = time.time()
    request_bytes = request.content_length or 0
    identity = exchange.identity or identify(request.headers)
    metrics.client_request(identity, exchange.client_version, exchange.refusal, now)
    metrics.request_finished(
        method=request.method,
        route=exchange.route,
        status=status,
        api_version=exchange.client_version,
        duration=duration,
        request_bytes=request_bytes,
        response_bytes=sent,
    )
    if access_log.enabled:
        # Positional: keyword construction of the 20-field record costs 3x as much.
        access_log.log(
            AccessRecord(
                now,
                exchange.request_id,
                request.method,
                exchange.route,
                loggable_path(request.path, exchange.route),
                exchange.client_version,
                pin,
                exchange.applied,
                status,
                exchange.upstream_status,
                duration,
                exchange.upstream_duration,
                request_bytes,
                sent,
                request.remote or "",
                exchange.outcome,
                identity.app_release,
                identity.sdk,
                identity.sdk_version,
                exchange.refusal,
            )
        )
