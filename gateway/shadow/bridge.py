"""Where shadow comparison meets the request handler: take a sample, keep the client's answer,
and replay the request at another pin through the same changes.

A replay runs the handler's own steps (the hooks' view of the request, the plan, the one
upstream call, the client's headers: through the ``ShadowHost`` below, which
``gateway.proxy.Gateway`` is), so the candidate answer is what the client would have
received; it is counted in no request, upstream or translation metric.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from aiohttp import web
from multidict import CIMultiDict

from gateway.exchange import BodyTooLarge, Exchange, read_bounded
from gateway.handler.answers import Answers
from gateway.handler.translated import hooks_request, upstream_sender
from gateway.handler.upstream_call import UpstreamCall
from gateway.kinvey.routes import RouteMatch
from gateway.settings import Settings
from gateway.shadow.runner import (
    Captured,
    Fetch,
    Replay,
    ShadowFetchFailed,
    ShadowRunner,
)
from gateway.versioning.bundle import VersionBundle
from gateway.versioning.context import ExchangeContext, Services
from gateway.versioning.metrics import NO_METRICS
from gateway.versioning.pipeline import run_plan


class ShadowHost(Protocol):
    """What shadow comparison uses of the request handler (``gateway.proxy.Gateway``)."""

    settings: Settings
    services: Services
    bundle: VersionBundle
    shadow: ShadowRunner | None
    in_flight: int
    max_in_flight: int
    newest: int
    calls: UpstreamCall
    answers: Answers


async def replay_of(
    shadow: ShadowRunner,
    request: web.BaseRequest,
    match: RouteMatch,
    raw_path: str,
    version: int,
    pin: int,
    base_url: str,
    stream: AsyncIterator[bytes] | None,
) -> Replay | None:
    """The sampled request, with its body read (it is small: only a ``_group`` read has one);
    None, counted as skipped, when the body is larger than a shadow comparison takes or coded
    (it is then read the way the request path reads it, not here)."""
    body: bytes | None = None
    if stream is not None:
        limit = shadow.config.max_body_bytes
        length = request.content_length
        if length is None or length > limit or "Content-Encoding" in request.headers:
            shadow.skipped(match.name, version)
            return None
        try:
            body = await read_bounded(stream, length, limit, _uncharged)
        except BodyTooLarge:  # the body outgrew its own Content-Length: not a sample
            shadow.skipped(match.name, version)
            return None
    headers = CIMultiDict(request.headers)
    return Replay(request.method, raw_path, match, headers, body, version, pin, base_url, request)


def _uncharged(size: int) -> None:
    """Sampled bodies are within ``shadow.max_body_bytes``: not charged to the buffer budget."""


def fetcher(gateway: ShadowHost) -> Fetch:
    async def fetch(replay: Replay, pin: int, base_url: str) -> Captured:
        """The request again at ``pin`` on ``base_url``: the answer the client would get."""
        exchange = Exchange()
        origin = replay.origin
        app = gateway.settings.app(replay.route.app_key)
        context = ExchangeContext(
            gateway.settings,
            app,
            gateway.answers.public_base(origin),
            gateway.services,
            NO_METRICS,
            exchange.applied,
        )
        info = hooks_request(
            replay.method,
            replay.raw_path,
            replay.route,
            replay.headers,
            replay.client_version,
            pin,
            context,
            body=replay.body,
        )
        send = upstream_sender(gateway.calls, origin, exchange, base_url, counted=False)
        try:
            plan = gateway.bundle.plan(replay.client_version, pin, replay.method, replay.route.name)
            result = await run_plan(plan, info, send)
            if exchange.outcome != "ok":
                raise ShadowFetchFailed(f"{exchange.outcome} at {base_url}")
            body = await result.load() if result.body is None else result.body
            shown = gateway.answers.client_headers(origin, result, replay.client_version, base_url)
        finally:
            exchange.release()
        return Captured(result.status, shown, body)

    return fetch
