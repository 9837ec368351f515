"""Where shadow comparison meets the request handler: take a sample, keep the client's answer,
and replay the request at another pin through the same changes.

A replay runs the handler's own steps (plan, hooks, upstream call, the client's headers: the
``ShadowHost`` below, which ``gateway.proxy.Gateway`` is), so the candidate answer is what the
client would have received; it is counted in no request, upstream or translation metric.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.exchange import BodyTooLarge, Exchange, read_bounded
from gateway.kinvey.codings import offer_decodable
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
from gateway.versioning.model import RequestInfo, ResponseInfo
from gateway.versioning.pipeline import run_plan


class ShadowHost(Protocol):
    """What a replay uses of the request handler."""

    settings: Settings
    services: Services
    bundle: VersionBundle
    shadow: ShadowRunner | None
    in_flight: int
    max_in_flight: int
    newest: int

    async def send_upstream(
        self,
        request: web.BaseRequest,
        exchange: Exchange,
        base_url: str,
        method: str,
        raw_path: str,
        incoming: CIMultiDict[str] | CIMultiDictProxy[str],
        upstream_version: int,
        body: bytes | None,
        counted: bool = True,
    ) -> ResponseInfo: ...

    def client_headers(
        self, request: web.BaseRequest, result: ResponseInfo, version: int | None, base_url: str
    ) -> CIMultiDict[str]: ...

    def public_base(self, request: web.BaseRequest) -> str: ...


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
            gateway.public_base(origin),
            gateway.services,
            NO_METRICS,
            exchange.applied,
        )
        headers = CIMultiDict(replay.headers)
        if "Accept-Encoding" in headers:  # the answer is read: only codings the gateway undoes
            headers["Accept-Encoding"] = offer_decodable(headers["Accept-Encoding"])
        info = RequestInfo(
            method=replay.method,
            raw_path=replay.raw_path,
            route=replay.route,
            headers=headers,
            client_version=replay.client_version,
            upstream_version=pin,
            context=context,
            body=replay.body,
        )

        async def send(outgoing: RequestInfo) -> ResponseInfo:
            return await gateway.send_upstream(
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
            body = await result.load() if result.body is None else result.body
            shown = gateway.client_headers(origin, result, replay.client_version, base_url)
        finally:
            for opened in exchange.opened:
                opened.release()
            if exchange.held is not None:
                exchange.held.release()
        return Captured(result.status, shown, body)

    return fetch
