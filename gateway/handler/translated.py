"""The translated path: a request some version change applies to runs the plan's layers
around the upstream call (``versioning.pipeline``); bodies are read only when a hook asks,
bounded, decoded once and charged to the buffer budget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from gateway.exchange import Exchange, read_request_body
from gateway.handler.answers import Answers
from gateway.handler.policy import AppTarget
from gateway.handler.upstream_call import UpstreamCall
from gateway.kinvey.codings import offer_decodable
from gateway.kinvey.errors import KinveyError
from gateway.kinvey.routes import RouteMatch
from gateway.settings import Settings
from gateway.versioning.bundle import Plan
from gateway.versioning.context import ExchangeContext, Services
from gateway.versioning.model import RequestInfo, ResponseInfo
from gateway.versioning.pipeline import run_plan

# A module attribute (not a direct call) so a test can count body buffering.
_read_bounded = read_request_body
_REFUSALS = {413: "body_too_large", 503: "overloaded"}  # the metric reason of a refused body


class Translation:
    def __init__(
        self,
        settings: Settings,
        services: Services,
        metrics: Any,
        calls: UpstreamCall,
        answers: Answers,
    ) -> None:
        self.settings = settings
        self.services = services
        self.metrics = metrics
        self.calls = calls
        self.answers = answers

    async def run(
        self,
        request: web.BaseRequest,
        exchange: Exchange,
        plan: Plan,
        target: AppTarget,
        raw_path: str,
        match: RouteMatch,
        version: int,
        stream: AsyncIterator[bytes] | None,
        preread: bytes | None,
    ) -> ResponseInfo | KinveyError:
        """The answer the client's version expects, or the error refusing its body."""
        context = ExchangeContext(
            self.settings,
            target.app,
            self.answers.public_base(request),
            self.services,
            self.metrics,
            exchange.applied,
        )
        headers = CIMultiDict(request.headers)
        accept_encoding = headers.get("Accept-Encoding")
        if accept_encoding is not None:
            # A change may read the answer: never ask for a coding the gateway cannot decode.
            headers["Accept-Encoding"] = offer_decodable(accept_encoding)
        info = RequestInfo(
            method=request.method,
            raw_path=raw_path,
            route=match,
            headers=headers,
            client_version=version,
            upstream_version=target.pin,
            context=context,
            stream=stream,
            body=preread,
        )
        if plan.reads_request_body and stream is not None:
            try:
                info.body = await _read_bounded(
                    stream,
                    request.content_length,
                    ", ".join(headers.popall("Content-Encoding", ())) or None,
                    self.calls.max_body,
                    self.calls.held(exchange).charge,
                )
            except KinveyError as error:
                self.metrics.gateway_error(_REFUSALS.get(error.status_code, "bad_request"))
                return error

        async def send(outgoing: RequestInfo) -> ResponseInfo:
            body = outgoing.body if outgoing.body is not None else outgoing.stream
            return await self.calls.send(
                request,
                exchange,
                target.base_url,
                outgoing.method,
                outgoing.raw_path,
                outgoing.headers,
                outgoing.upstream_version,
                body,
            )

        return await run_plan(plan, info, send)
