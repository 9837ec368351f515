"""The request handler: classify, check the version, translate or stream, answer, record.

A request that no version change matches takes the fast path: headers rewritten once, body
streamed to the upstream and the answer streamed back, nothing parsed. Otherwise the plan's
layers run around the upstream call (see ``versioning.pipeline``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from gateway.exchange import (
    BodyTooLarge,
    Exchange,
    loggable_path,
    new_request_id,
    origin_form,
    read_bounded,
    read_upstream,
    rewrite_location,
)
from gateway.http import headers as header_rules
from gateway.http.expect import continued, expects_continue
from gateway.http.streaming import ClientTooSlow, RelayAborted, client_body, relay, write_buffered
from gateway.http.upstream import UpstreamClient, UpstreamError
from gateway.kinvey import cors, routes
from gateway.kinvey.errors import KinveyError
from gateway.kinvey.version_header import KINVEY_NEWEST_VERSION, VersionRefused, parse_version
from gateway.observability.access_log import AccessLogger, AccessRecord
from gateway.settings import Settings
from gateway.versioning.bundle import VersionBundle
from gateway.versioning.context import ExchangeContext, Services
from gateway.versioning.model import RequestInfo, ResponseInfo
from gateway.versioning.pipeline import run_plan

log = logging.getLogger("gateway.proxy")
# Module attributes (not direct calls) so a test can count body buffering.
_read_bounded = read_bounded
_read_upstream = read_upstream
_VERSION_TEXT = tuple(str(v) for v in range(100))
Body = bytes | Any | None


class Gateway:
    def __init__(
        self,
        settings: Settings,
        bundle: VersionBundle,
        upstream: UpstreamClient,
        metrics: Any,
        access_log: AccessLogger,
        services: Services,
        local_handlers: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.bundle = bundle
        self.upstream = upstream
        self.metrics = metrics
        self.access_log = access_log
        self.services = services
        self.local_handlers = local_handlers or {}
        self.default_upstream_url: str = settings["upstream.url"]
        self.pin = settings.upstream_api_version
        self.default_client_version: int | None = settings["default_client_api_version"]
        self.public_base_url: str | None = settings["public_base_url"]
        self.max_body = int(settings["limits.max_buffered_body_bytes"])
        self.body_timeout = float(settings["limits.client_body_timeout_seconds"])
        self.max_in_flight = int(settings["limits.max_concurrent_requests"])
        self.in_flight = 0
        self.newest = max(bundle.newest_version, KINVEY_NEWEST_VERSION)
        self._authorities: dict[str, str] = {}

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.monotonic()
        exchange = Exchange()
        self.in_flight += 1
        self.metrics.request_started()
        status = 500
        sent = 0
        try:
            response, sent = await self._dispatch(request, exchange)
            status = response.status
            return response
        except RelayAborted as exc:
            exchange.outcome = exc.outcome
            status = exchange.upstream_status or 502
            raise
        except ClientTooSlow:
            exchange.outcome = "client_timeout"
            status = 408
            self.metrics.gateway_error("client_timeout")
            # The connection is dropped: a client this slow cannot be answered in time.
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=408)
        except (ConnectionResetError, asyncio.CancelledError):
            exchange.outcome = "client_disconnected"
            status = 499
            raise
        finally:
            for opened in exchange.opened:
                opened.release()
            self.in_flight -= 1
            self._record(request, exchange, status, started, sent)

    async def _dispatch(
        self, request: web.BaseRequest, exchange: Exchange
    ) -> tuple[web.StreamResponse, int]:
        raw_path = origin_form(request)
        if raw_path is None:
            error = KinveyError("BadRequest", debug="invalid request target")
            return self._error(request, exchange, error, None), 0
        match = routes.match(raw_path)
        exchange.route = match.name
        if self.in_flight > self.max_in_flight:
            self.metrics.gateway_error("overloaded")
            error = KinveyError(
                "KinveyInternalErrorRetry",
                status=503,
                debug="the gateway is overloaded; retry later",
            )
            return self._error(request, exchange, error, None), 0
        preflight = cors.is_preflight(request.method, request.headers)
        local = self.local_handlers.get(match.name)
        if local is not None:
            if preflight:  # a gateway file URL: the gateway is the server a browser asks
                headers = cors.preflight_headers(request.headers)
                return web.Response(status=204, headers=headers), 0
            return await local(request, exchange), 0
        app = self.settings.app(match.app_key)
        pin = (app.upstream_api_version if app else None) or self.pin
        base_url = (app.upstream_url if app else None) or self.default_upstream_url
        if preflight:
            return await self._preflight(request, exchange, base_url, raw_path, pin)
        default = app.default_client_api_version if app else None
        if default is None:
            default = self.default_client_version
        version = parse_version(
            request.headers.get("X-Kinvey-API-Version"),
            pin if default is None else default,
            app.min_client_api_version if app else 0,
            self.newest,
        )
        if isinstance(version, VersionRefused):
            self.metrics.gateway_error("version_not_available")
            return self._error(request, exchange, version.error, version.echo), 0
        exchange.client_version = version
        stream = client_body(request.content, self.body_timeout) if request.body_exists else None
        if stream is not None and expects_continue(request):
            stream = continued(request, stream)
        plan = self.bundle.plan(version, pin, request.method, match.name)
        if plan.is_passthrough:
            # No change applies: no context, no copy of the request for hooks to rewrite.
            result = await self._send(
                request, exchange, base_url, request.method, raw_path, request.headers, pin, stream
            )
            return await self._answer(request, exchange, result, version, base_url)
        context = ExchangeContext(
            self.settings,
            app,
            self._public_base(request),
            self.services,
            self.metrics,
            exchange.applied,
        )
        info = RequestInfo(
            method=request.method,
            raw_path=raw_path,
            route=match,
            headers=CIMultiDict(request.headers),
            client_version=version,
            upstream_version=pin,
            context=context,
            stream=stream,
        )
        if plan.reads_request_body and stream is not None:
            try:
                info.body = await _read_bounded(stream, request.content_length, self.max_body)
            except BodyTooLarge:
                self.metrics.gateway_error("body_too_large")
                error = KinveyError(
                    "BadRequest",
                    status=413,
                    debug=f"the request body is larger than {self.max_body} bytes",
                )
                return self._error(request, exchange, error, version, version), 0

        async def send(outgoing: RequestInfo) -> ResponseInfo:
            body = outgoing.body if outgoing.body is not None else outgoing.stream
            return await self._send(
                request,
                exchange,
                base_url,
                outgoing.method,
                outgoing.raw_path,
                outgoing.headers,
                outgoing.upstream_version,
                body,
            )

        result = await run_plan(plan, info, send)
        return await self._answer(request, exchange, result, version, base_url)

    async def _preflight(
        self, request: web.BaseRequest, exchange: Exchange, base_url: str, raw_path: str, pin: int
    ) -> tuple[web.StreamResponse, int]:
        """A CORS preflight goes to the upstream as it is (issue 14): it never carries the
        version header, so no version policy (the app's default version) applies to it."""
        result = await self._send(
            request, exchange, base_url, "OPTIONS", raw_path, request.headers, pin, None
        )
        if result.upstream_status is None:
            # Unreachable or timed out: a failed preflight would hide the gateway's 502/504 for
            # the actual request from the app; allow it, and let that request tell why.
            result = ResponseInfo(204, CIMultiDict(cors.preflight_headers(request.headers)))
        return await self._answer(request, exchange, result, None, base_url)

    async def _send(
        self,
        request: web.BaseRequest,
        exchange: Exchange,
        base_url: str,
        method: str,
        raw_path: str,
        incoming: CIMultiDict[str] | CIMultiDictProxy[str],
        upstream_version: int,
        body: Body,
    ) -> ResponseInfo:
        headers = header_rules.upstream_request_headers(
            incoming,
            upstream_host=self._authority(base_url),
            peer=request.remote,
            scheme=request.scheme,
            original_host=request.headers.get("Host"),
            api_version=upstream_version,
        )
        if isinstance(body, bytes):
            headers.popall("Transfer-Encoding", None)
            headers["Content-Length"] = str(len(body))
        started = time.monotonic()
        try:
            upstream = await self.upstream.send(base_url, method, raw_path, headers, body)
        except UpstreamError as exc:
            exchange.outcome = exc.outcome
            exchange.upstream_duration = time.monotonic() - started
            self.metrics.upstream_finished(
                route=exchange.route,
                status=None,
                outcome=exc.outcome,
                duration=exchange.upstream_duration,
            )
            self.metrics.gateway_error(
                "upstream_timeout" if exc.outcome == "timeout" else "upstream_unreachable"
            )
            return ResponseInfo.from_error(
                KinveyError("KinveyInternalErrorRetry", status=exc.status, debug=exc.debug)
            )
        exchange.opened.append(upstream)
        status = exchange.upstream_status = upstream.status
        exchange.upstream_duration = time.monotonic() - started
        self.metrics.upstream_finished(
            route=exchange.route, status=status, outcome="ok", duration=exchange.upstream_duration
        )
        return ResponseInfo(
            status,
            header_rules.client_response_headers(upstream.headers),
            None,
            loader=lambda: _read_upstream(upstream, self.max_body),
            upstream_status=status,
            source=upstream,
        )

    async def _answer(
        self,
        request: web.BaseRequest,
        exchange: Exchange,
        result: ResponseInfo,
        version: int | None,
        base_url: str,
    ) -> tuple[web.StreamResponse, int]:
        headers = result.headers
        if version is not None:  # None: a preflight, which asked for no version
            headers["X-Kinvey-API-Version"] = _VERSION_TEXT[version]
        request_id = headers.get("X-Kinvey-Request-Id")
        if request_id is None:
            request_id = headers["X-Kinvey-Request-Id"] = new_request_id()
        exchange.request_id = request_id
        location = headers.get("Location")
        if location is not None:
            public_base = self._public_base(request)
            headers["Location"] = rewrite_location(location, base_url, public_base)
        if result.body is None and result.source is not None:
            return await relay(request, result.source, headers, result.status, self.body_timeout)
        body = result.body or b""
        return await write_buffered(request, result.status, headers, body), len(body)

    def _error(
        self,
        request: web.BaseRequest,
        exchange: Exchange,
        error: KinveyError,
        echo: int | None,
        client_version: int | None = None,
    ) -> web.StreamResponse:
        """An answer the gateway makes itself, before any translation layer could shape it."""
        exchange.request_id = new_request_id()
        headers: CIMultiDict[str] = CIMultiDict()
        headers["Content-Type"] = "application/json; charset=utf-8"
        headers["X-Kinvey-Request-Id"] = exchange.request_id
        if echo is not None:
            headers["X-Kinvey-API-Version"] = str(echo)
        cors.add_answer_headers(headers)
        body = error.body_bytes(client_version)
        return web.Response(status=error.status_code, headers=headers, body=body)

    def _public_base(self, request: web.BaseRequest) -> str:
        return self.public_base_url or f"{request.scheme}://{request.host}"

    def _authority(self, base_url: str) -> str:
        authority = self._authorities.get(base_url)
        if authority is None:  # one per configured upstream: a handful
            authority = self._authorities[base_url] = URL(base_url).raw_authority
        return authority

    def _record(
        self, request: web.BaseRequest, exchange: Exchange, status: int, started: float, sent: int
    ) -> None:
        duration = time.monotonic() - started
        request_bytes = request.content_length or 0
        self.metrics.request_finished(
            method=request.method,
            route=exchange.route,
            status=status,
            api_version=exchange.client_version,
            duration=duration,
            request_bytes=request_bytes,
            response_bytes=sent,
        )
        if self.access_log.enabled:
            # Positional: keyword construction of the 16-field record costs 3x as much.
            self.access_log.log(
                AccessRecord(
                    time.time(),
                    exchange.request_id,
                    request.method,
                    exchange.route,
                    loggable_path(request.path, exchange.route),
                    exchange.client_version,
                    self.pin,
                    exchange.applied,
                    status,
                    exchange.upstream_status,
                    duration,
                    exchange.upstream_duration,
                    request_bytes,
                    sent,
                    request.remote or "",
                    exchange.outcome,
                )
            )
