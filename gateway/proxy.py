"""The request handler: classify, check the version, translate or stream, answer, record.

A request that no version change matches takes the fast path: headers rewritten once, body
streamed to the upstream and the answer streamed back, nothing parsed. Otherwise the plan's
layers run around the upstream call (see ``versioning.pipeline``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from gateway.exchange import (
    Exchange,
    loggable_path,
    new_request_id,
    origin_form,
    read_request_body,
    read_translatable,
    rewrite_location,
)
from gateway.handler.answers import body_bytes, error_answer
from gateway.handler.files import GatewayFiles
from gateway.handler.targets import AppTargets
from gateway.http import headers as header_rules
from gateway.http.budget import BufferBudget, Held
from gateway.http.expect import continued, expects_continue
from gateway.http.streaming import (
    ClientTooSlow,
    RelayAborted,
    Tee,
    client_body,
    relay,
    write_buffered,
)
from gateway.http.upstream import UpstreamClient, UpstreamError
from gateway.kinvey import cors, routes
from gateway.kinvey.client_identity import identify
from gateway.kinvey.codings import offer_decodable
from gateway.kinvey.errors import KinveyError
from gateway.kinvey.release_policy import REFUSED, retired_error, retirement_verdict
from gateway.kinvey.session_cache import TokenCache, end_sessions_after_user_save
from gateway.kinvey.version_header import VersionRefused, newest_known_version, parse_version
from gateway.observability.access_log import AccessLogger, AccessRecord
from gateway.observability.metrics import NullMetrics
from gateway.settings import AppPolicy, Settings
from gateway.shadow import bridge as shadow_bridge
from gateway.shadow.runner import Captured, Replay, ShadowRunner
from gateway.versioning.bundle import VersionBundle
from gateway.versioning.context import ExchangeContext, Services
from gateway.versioning.model import RequestInfo, ResponseInfo
from gateway.versioning.pipeline import run_plan

log = logging.getLogger("gateway.proxy")
# Module attributes (not direct calls) so a test can count body buffering.
_read_bounded = read_request_body
_read_upstream = read_translatable
# Seconds a client refused for lack of buffer budget is asked to wait (bodies drain in ~1 s).
RETRY_AFTER_SECONDS = "1"
_REFUSALS = {413: "body_too_large", 503: "overloaded"}  # the metric reason of a refused body
_VERSION_TEXT = tuple(str(v) for v in range(100))
_UNCOUNTED = NullMetrics()  # for the shadow calls of gateway/shadow/: no client traffic
Body = bytes | Any | None
LocalAnswer = Callable[[web.BaseRequest, Exchange], Awaitable[tuple[web.StreamResponse, int]]]


class Gateway:
    def __init__(
        self,
        settings: Settings,
        bundle: VersionBundle,
        upstream: UpstreamClient,
        metrics: Any,
        access_log: AccessLogger,
        services: Services,
        storage: UpstreamClient | None = None,
    ) -> None:
        self.settings = settings
        self.bundle = bundle
        self.upstream = upstream
        self.metrics = metrics
        self.access_log = access_log
        self.services = services
        self.sessions = services.get(TokenCache)
        self.targets = AppTargets(settings)
        self.pin = settings.upstream_api_version
        self.public_base_url: str | None = settings["public_base_url"]
        self.max_body = int(settings["limits.max_buffered_body_bytes"])
        self.body_timeout = float(settings["limits.client_body_timeout_seconds"])
        self.max_in_flight = int(settings["limits.max_concurrent_requests"])
        self.buffers = BufferBudget(int(settings["limits.max_buffered_bytes_total"]))
        self.in_flight = 0
        self.newest = newest_known_version(bundle.newest_version)
        self._authorities: dict[str, str] = {}
        # Set by the runtime when shadow comparison is configured (see gateway/shadow/).
        self.shadow: ShadowRunner | None = None
        # Routes the gateway answers itself (storage: the file storage client, see files.py).
        files = GatewayFiles(
            settings,
            self.targets,
            metrics,
            services,
            bundle,
            self.send_upstream,
            storage or upstream,
        )
        self.local: dict[str, LocalAnswer] = {"gateway.file": files}

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
            if exchange.held is not None:
                exchange.held.release()
            self.in_flight -= 1
            self._record(request, exchange, status, started, sent)

    async def _dispatch(
        self, request: web.BaseRequest, exchange: Exchange
    ) -> tuple[web.StreamResponse, int]:
        raw_path = origin_form(request)
        if raw_path is None:
            error = KinveyError("BadRequest", debug="invalid request target")
            return error_answer(request, exchange, error, None)
        unclear = routes.unclear_path(raw_path)
        if unclear is not None:
            self.metrics.gateway_error("bad_request")
            error = KinveyError("BadRequest", debug=unclear)
            return error_answer(request, exchange, error, None)
        match = routes.match(raw_path)
        exchange.route = match.name
        if self.in_flight > self.max_in_flight:
            self.metrics.gateway_error("overloaded")
            error = KinveyError(
                "KinveyInternalErrorRetry",
                status=503,
                debug="the gateway is overloaded; retry later",
            )
            return error_answer(request, exchange, error, None)
        preflight = cors.is_preflight(request.method, request.headers)
        local = self.local.get(match.name)
        if local is not None:
            if preflight:  # a gateway file URL: the gateway is the server a browser asks
                allowed = cors.preflight_headers(request.headers)
                return web.Response(status=204, headers=allowed), 0
            return await local(request, exchange)
        target = self.targets.of(match.app_key)
        app, pin, base_url = target.app, target.pin, target.base_url
        if preflight:
            return await self._preflight(request, exchange, base_url, raw_path, pin)
        version = parse_version(
            request.headers.get("X-Kinvey-API-Version"),
            target.default_version,
            target.min_version,
            self.newest,
        )
        if isinstance(version, VersionRefused):
            self.metrics.gateway_error("version_not_available")
            return error_answer(request, exchange, version.error, version.echo)
        exchange.client_version = version
        if app is not None and app.min_client_app_version is not None:
            retired = self._retired(request, exchange, app)
            if retired is not None:
                return error_answer(request, exchange, retired, version, version)
        stream = client_body(request.content, self.body_timeout) if request.body_exists else None
        if stream is not None and expects_continue(request):
            stream = continued(request, stream)
        replay: Replay | None = None
        if self.shadow is not None and self.shadow.samples(request.method, match.name, version):
            replay = await shadow_bridge.replay_of(
                self.shadow, request, match, raw_path, version, pin, base_url, stream
            )
            if replay is not None and replay.body is not None:
                stream = None  # read once, for both the upstream and the shadow calls
        preread = replay.body if replay is not None else None
        plan = self.bundle.plan(version, pin, request.method, match.name)
        if plan.is_passthrough:
            # No change applies: no context, no copy of the request for hooks to rewrite.
            body = stream if preread is None else preread
            result = await self.send_upstream(
                request, exchange, base_url, request.method, raw_path, request.headers, pin, body
            )
            # A v6 app changing its password passes through here: old apps' sessions must end.
            end_sessions_after_user_save(self.sessions, request.method, match, result.status)
            return await self._answer(request, exchange, result, version, base_url, replay)
        context = ExchangeContext(
            self.settings,
            app,
            self.public_base(request),
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
            upstream_version=pin,
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
                    self.max_body,
                    self._held(exchange).charge,
                )
            except KinveyError as error:
                self.metrics.gateway_error(_REFUSALS.get(error.status_code, "bad_request"))
                answer, sent = error_answer(request, exchange, error, version, version)
                self._ask_retry_later(exchange, answer.status, answer.headers)
                return answer, sent

        async def send(outgoing: RequestInfo) -> ResponseInfo:
            body = outgoing.body if outgoing.body is not None else outgoing.stream
            return await self.send_upstream(
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
        return await self._answer(request, exchange, result, version, base_url, replay)

    async def _preflight(
        self, request: web.BaseRequest, exchange: Exchange, base_url: str, raw_path: str, pin: int
    ) -> tuple[web.StreamResponse, int]:
        """A CORS preflight goes to the upstream as it is (issue 14): it never carries the
        version header, so no version policy (the app's default version) applies to it."""
        result = await self.send_upstream(
            request, exchange, base_url, "OPTIONS", raw_path, request.headers, pin, None
        )
        if result.upstream_status is None:
            # Unreachable or timed out: a failed preflight would hide the gateway's 502/504 for
            # the actual request from the app; allow it, and let that request tell why.
            result = ResponseInfo(204, CIMultiDict(cors.preflight_headers(request.headers)))
        return await self._answer(request, exchange, result, None, base_url)

    async def send_upstream(
        self,
        request: web.BaseRequest,
        exchange: Exchange,
        base_url: str,
        method: str,
        raw_path: str,
        incoming: CIMultiDict[str] | CIMultiDictProxy[str],
        upstream_version: int,
        body: Body,
        counted: bool = True,
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
        metrics = self.metrics if counted else _UNCOUNTED
        started = time.monotonic()
        try:
            upstream = await self.upstream.send(base_url, method, raw_path, headers, body)
        except UpstreamError as exc:
            exchange.outcome = exc.outcome
            exchange.upstream_duration = time.monotonic() - started
            metrics.upstream_finished(
                route=exchange.route,
                status=None,
                outcome=exc.outcome,
                duration=exchange.upstream_duration,
            )
            metrics.gateway_error(
                "upstream_timeout" if exc.outcome == "timeout" else "upstream_unreachable"
            )
            return ResponseInfo.from_error(
                KinveyError("KinveyInternalErrorRetry", status=exc.status, debug=exc.debug)
            )
        exchange.opened.append(upstream)
        status = exchange.upstream_status = upstream.status
        exchange.upstream_duration = time.monotonic() - started
        metrics.upstream_finished(
            route=exchange.route, status=status, outcome="ok", duration=exchange.upstream_duration
        )
        headers = header_rules.client_response_headers(upstream.headers)
        return ResponseInfo(
            status,
            headers,
            None,
            loader=lambda: _read_upstream(
                upstream, headers, self.max_body, self._held(exchange).charge
            ),
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
        replay: Replay | None = None,
    ) -> tuple[web.StreamResponse, int]:
        headers = self.client_headers(request, result, version, base_url)
        exchange.request_id = headers["X-Kinvey-Request-Id"]
        if result.upstream_status is not None:
            # The upstream answer this one is made from: a signup's 201, not the login after it.
            exchange.upstream_status = result.upstream_status
        if exchange.held is not None:
            self._ask_retry_later(exchange, result.status, headers)
        if replay is not None:
            return await self._answer_shadowed(request, result, headers, replay)
        if result.body is None and result.source is not None:
            return await relay(request, result.source, headers, result.status, self.body_timeout)
        response = await write_buffered(request, result.status, headers, result.body or b"")
        return response, body_bytes(request, response)

    async def _answer_shadowed(
        self,
        request: web.BaseRequest,
        result: ResponseInfo,
        headers: CIMultiDict[str],
        replay: Replay,
    ) -> tuple[web.StreamResponse, int]:
        """Answer exactly as otherwise, keeping a bounded copy of what the client got; then
        hand it to the shadow comparison (which runs in the background)."""
        assert self.shadow is not None
        seen = CIMultiDict(headers)
        tee = Tee(self.shadow.config.max_body_bytes)
        if result.body is None and result.source is not None:
            answered = await relay(
                request, result.source, headers, result.status, self.body_timeout, tee
            )
        else:
            tee.add(result.body or b"")
            response = await write_buffered(request, result.status, headers, result.body or b"")
            answered = response, body_bytes(request, response)
        if tee.overflowed:
            self.shadow.skipped(replay.route.name, replay.client_version)
        else:
            self.shadow.submit(replay, Captured(result.status, seen, b"".join(tee.chunks)))
        return answered

    def client_headers(
        self, request: web.BaseRequest, result: ResponseInfo, version: int | None, base_url: str
    ) -> CIMultiDict[str]:
        """The answer's headers as the client gets them: its version (none for a preflight,
        which asked for none), a request id, and a ``Location`` that points at the gateway
        instead of the upstream."""
        headers = result.headers
        if version is not None:
            headers["X-Kinvey-API-Version"] = _VERSION_TEXT[version]
        if "X-Kinvey-Request-Id" not in headers:
            headers["X-Kinvey-Request-Id"] = new_request_id()
        location = headers.get("Location")
        if location is not None:
            public_base = self.public_base(request)
            headers["Location"] = rewrite_location(location, base_url, public_base)
        return headers

    def _retired(
        self, request: web.BaseRequest, exchange: Exchange, app: AppPolicy
    ) -> KinveyError | None:
        """The answer for a retired app release (release_policy), or None to serve it."""
        identity = exchange.identity = identify(request.headers)
        minimum = app.min_client_app_version
        verdict = exchange.refusal = retirement_verdict(
            identity.app_release, minimum, app.report_only
        )
        if verdict != REFUSED or minimum is None:
            return None
        self.metrics.gateway_error("release_retired")
        return retired_error(identity.app_release, minimum, app.retired_message)

    def _held(self, exchange: Exchange) -> Held:
        held = exchange.held
        if held is None:
            held = exchange.held = self.buffers.hold()
        return held

    @staticmethod
    def _ask_retry_later(exchange: Exchange, status: int, headers: CIMultiDict[str]) -> None:
        """A request refused for lack of buffer budget may succeed in a moment: say when."""
        if status == 503 and exchange.held is not None and exchange.held.exhausted:
            headers["Retry-After"] = RETRY_AFTER_SECONDS

    def public_base(self, request: web.BaseRequest) -> str:
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
        now = time.time()
        request_bytes = request.content_length or 0
        identity = exchange.identity or identify(request.headers)
        self.metrics.client_request(identity, exchange.client_version, exchange.refusal, now)
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
            # Positional: keyword construction of the 20-field record costs 3x as much.
            self.access_log.log(
                AccessRecord(
                    now,
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
                    identity.app_release,
                    identity.sdk,
                    identity.sdk_version,
                    exchange.refusal,
                )
            )
