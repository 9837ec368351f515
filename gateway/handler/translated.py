"""The translated path: a request some version change applies to runs the plan's layers
around the upstream call (``versioning.pipeline``); bodies are read only when a hook asks,
bounded, decoded once and charged to the buffer budget."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from aiohttp import web
from multidict import CIMultiDict

from gateway.exchange import Exchange, read_request_body
from gateway.handler.answers import Answers
from gateway.handler.policy import AppTarget
from gateway.handler.upstream_call import UpstreamCall
from gateway.kinvey.codings import offer_decodable
from gateway.kinvey.errors import KinveyError
from gateway.kinvey.routes import RouteMatch
from gateway.observability.metrics import Metrics
from gateway.settings import Settings
from gateway.settings_apps import AppPolicy
from gateway.versioning.bundle import Plan
from gateway.versioning.context import ExchangeContext, Services
from gateway.versioning.model import RequestInfo, ResponseInfo
from gateway.versioning.pipeline import Send, run_plan

# A module attribute (not a direct call) so a test can count body buffering.
_read_bounded = read_request_body
_REFUSALS = {413: "body_too_large", 503: "overloaded"}  # the metric reason of a refused body


class Translation:
    def __init__(
        self,
        settings: Settings,
        services: Services,
        metrics: Metrics,
        calls: UpstreamCall,
        answers: Answers,
    ) -> None:
        self.settings = settings
        self.services = services
        self.metrics = metrics
        self.calls = calls
        self.answers = answers

    def context(
        self, request: web.BaseRequest, exchange: Exchange, app: AppPolicy | None
    ) -> ExchangeContext:
        """What the hooks may use beyond the request (``versioning.context``)."""
        return ExchangeContext(
            self.settings,
            app,
            self.answers.public_base(request),
            self.services,
            self.metrics,
            exchange.applied,
        )

    def request_info(
        self,
        request: web.BaseRequest,
        exchange: Exchange,
        target: AppTarget,
        raw_path: str,
        match: RouteMatch,
        version: int,
        stream: AsyncIterator[bytes] | None,
        preread: bytes | None,
    ) -> RequestInfo:
        """The client's request as the hooks see it."""
        context = self.context(request, exchange, target.app)
        return hooks_request(
            request.method,
            raw_path,
            match,
            request.headers,
            version,
            target.pin,
            context,
            stream=stream,
            body=preread,
        )

    async def run(
        self,
        request: web.BaseRequest,
        exchange: Exchange,
        plan: Plan,
        info: RequestInfo,
        base_url: str,
    ) -> ResponseInfo | KinveyError:
        """The answer the client's version expects, or the error refusing its body."""
        stream = info.stream
        if plan.reads_request_body and stream is not None:
            try:
                info.body = await _read_bounded(
                    stream,
                    request.content_length,
                    ", ".join(info.headers.popall("Content-Encoding", ())) or None,
                    self.calls.max_body,
                    self.calls.held(exchange).charge,
                )
            except KinveyError as error:
                self.metrics.gateway_error(_REFUSALS.get(error.status_code, "bad_request"))
                return error

        return await run_plan(plan, info, upstream_sender(self.calls, request, exchange, base_url))


def hooks_request(
    method: str,
    raw_path: str,
    match: RouteMatch,
    headers: Mapping[str, str],
    version: int,
    pin: int,
    context: ExchangeContext,
    *,
    stream: AsyncIterator[bytes] | None = None,
    body: bytes | None = None,
) -> RequestInfo:
    """A request as the hooks see it: their own copy of its headers, asking the upstream only
    for codings the gateway can decode (a change may read the answer)."""
    copied = CIMultiDict(headers)
    accept_encoding = copied.get("Accept-Encoding")
    if accept_encoding is not None:
        copied["Accept-Encoding"] = offer_decodable(accept_encoding)
    return RequestInfo(
        method=method,
        raw_path=raw_path,
        route=match,
        headers=copied,
        client_version=version,
        upstream_version=pin,
        context=context,
        stream=stream,
        body=body,
    )


def upstream_sender(
    calls: UpstreamCall,
    request: web.BaseRequest,
    exchange: Exchange,
    base_url: str,
    *,
    counted: bool = True,
) -> Send:
    """The pipeline's innermost step: the request as the hooks left it, to the upstream."""

    async def send(outgoing: RequestInfo) -> ResponseInfo:
        body = outgoing.body if outgoing.body is not None else outgoing.stream
        return await calls.send(
            request,
            exchange,
            base_url,
            outgoing.method,
            outgoing.raw_path,
            outgoing.headers,
            outgoing.upstream_version,
            body,
            counted,
        )

    return send
