"""Where shadow comparison meets the request handler: take a sample, keep the client's answer,
and replay the request at another pin through the same changes.

A replay runs the handler's own steps (plan, hooks, upstream call, the client's headers: the
handler's methods, called from here on purpose), so the candidate answer is what the client
would have received; it is counted in no request, upstream or translation metric.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from multidict import CIMultiDict

from gateway.exchange import BodyTooLarge, Exchange, read_bounded
from gateway.http.streaming import client_body
from gateway.kinvey.routes import RouteMatch
from gateway.observability.metrics import NullMetrics
from gateway.shadow.runner import (
    Captured,
    Fetch,
    Replay,
    ShadowFetchFailed,
    ShadowRunner,
)
from gateway.versioning.context import ExchangeContext
from gateway.versioning.model import RequestInfo, ResponseInfo
from gateway.versioning.pipeline import run_plan

if TYPE_CHECKING:
    from gateway.proxy import Gateway

_UNCOUNTED = NullMetrics()


async def replay_of(
    shadow: ShadowRunner,
    request: web.BaseRequest,
    match: RouteMatch,
    raw_path: str,
    version: int,
    pin: int,
    base_url: str,
    body_timeout: float,
) -> Replay | None:
    """The sampled request, with its body read (it is small: only a ``_group`` read has one);
    None, counted as skipped, when the body is larger than a shadow comparison takes."""
    body: bytes | None = None
    if request.body_exists:
        limit = shadow.config.max_body_bytes
        length = request.content_length
        if length is None or length > limit:
            shadow.skipped(match.name, version)
            return None
        try:
            body = await read_bounded(client_body(request.content, body_timeout), length, limit)
        except BodyTooLarge:  # the body outgrew its own Content-Length: not a sample
            shadow.skipped(match.name, version)
            return None
    headers = CIMultiDict(request.headers)
    return Replay(request.method, raw_path, match, headers, body, version, pin, base_url, request)


def fetcher(gateway: Gateway) -> Fetch:
    async def fetch(replay: Replay, pin: int, base_url: str) -> Captured:
        """The request again at ``pin`` on ``base_url``: the answer the client would get."""
        exchange = Exchange()
        origin = replay.origin
        app = gateway.settings.app(replay.route.app_key)
        context = ExchangeContext(
            gateway.settings,
            app,
            gateway._public_base(origin),
            gateway.services,
            _UNCOUNTED,
            exchange.applied,
        )
        info = RequestInfo(
            method=replay.method,
            raw_path=replay.raw_path,
            route=replay.route,
            headers=CIMultiDict(replay.headers),
            client_version=replay.client_version,
            upstream_version=pin,
            context=context,
            body=replay.body,
        )

        async def send(outgoing: RequestInfo) -> ResponseInfo:
            return await gateway._send(
                origin,
                exchange,
                base_url,
                outgoing.method,
                outgoing.raw_path,
                outgoing.headers,
                outgoing.upstream_version,
                outgoing.body,
                counted=False,
            )

        try:
            plan = gateway.bundle.plan(replay.client_version, pin, replay.method, replay.route.name)
            result = await run_plan(plan, info, send)
            if exchange.outcome != "ok":
                raise ShadowFetchFailed(f"{exchange.outcome} at {base_url}")
            headers = gateway.client_headers(origin, result, replay.client_version, base_url)
            body = await result.load() if result.body is None else result.body
        finally:
            for opened in exchange.opened:
                opened.release()
        return Captured(result.status, headers, body)

    return fetch
