"""The request handler: classify, check the version policy, plan, send, answer, record.

Every request on the proxy listener takes this one path (``Gateway.handle``); the steps live
in ``gateway/handler/``. A request that no version change matches takes the fast path:
headers rewritten once, body streamed to the upstream and the answer streamed back, nothing
parsed. Otherwise the plan's layers run around the upstream call (``handler/translated.py``).
Routes the gateway answers itself (``gateway.file``) share the same classify and record steps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.exchange import Exchange, origin_form
from gateway.handler.answers import Answer, Answers, ask_retry_later, error_answer
from gateway.handler.files import GatewayFiles
from gateway.handler.policy import AppTarget, AppTargets, retired
from gateway.handler.preflight import local_preflight, preflight
from gateway.handler.recording import record
from gateway.handler.translated import Translation
from gateway.handler.upstream_call import UpstreamCall
from gateway.http.budget import BufferBudget
from gateway.http.expect import continued, expects_continue
from gateway.http.streaming import ClientTooSlow, RelayAborted, client_body
from gateway.http.upstream import UpstreamClient
from gateway.kinvey import cors, routes
from gateway.kinvey.errors import KinveyError
from gateway.kinvey.routes import RouteMatch
from gateway.kinvey.session_cache import TokenCache, end_sessions_after_user_save
from gateway.kinvey.version_header import VersionRefused, newest_known_version, parse_version
from gateway.observability.access_log import AccessLogger
from gateway.observability.metrics import Metrics
from gateway.settings import Settings
from gateway.shadow import bridge as shadow_bridge
from gateway.shadow.runner import Replay, ShadowRunner
from gateway.versioning.bundle import VersionBundle
from gateway.versioning.context import Services

LocalAnswer = Callable[[web.BaseRequest, Exchange], Awaitable[Answer]]


class Gateway:
    def __init__(
        self,
        settings: Settings,
        bundle: VersionBundle,
        upstream: UpstreamClient,
        metrics: Metrics,
        access_log: AccessLogger,
        services: Services,
        storage: UpstreamClient | None = None,
    ) -> None:
        self.settings = settings
        self.bundle = bundle
        self.metrics = metrics
        self.access_log = access_log
        self.services = services
        self.sessions = services.get(TokenCache)
        self.targets = AppTargets(settings)
        self.pin = settings.upstream_api_version
        self.body_timeout = settings.limits.client_body_timeout_seconds
        self.max_in_flight = settings.limits.max_concurrent_requests
        self.buffers = BufferBudget(settings.limits.max_buffered_bytes_total)
        self.in_flight = 0
        self.newest = newest_known_version(bundle.newest_version)
        max_body = settings.limits.max_buffered_body_bytes
        self.calls = UpstreamCall(upstream, metrics, max_body, self.buffers)
        self.answers = Answers(settings.public_base_url, self.body_timeout)
        self.translation = Translation(settings, services, metrics, self.calls, self.answers)
        # Set by the runtime when shadow comparison is configured (see gateway/shadow/).
        self.shadow: ShadowRunner | None = None
        # Routes the gateway answers itself (storage: the file storage client, see files.py).
        files = GatewayFiles(
            self.targets,
            self.translation,
            self.calls,
            metrics,
            services,
            bundle,
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
            exchange.release()
            self.in_flight -= 1
            record(
                self.metrics, self.access_log, self.pin, request, exchange, status, started, sent
            )

    async def _dispatch(self, request: web.BaseRequest, exchange: Exchange) -> Answer:
        classified = self._classify(request, exchange)
        if isinstance(classified, KinveyError):
            return error_answer(request, exchange, classified, None)
        raw_path, match = classified
        is_preflight = cors.is_preflight(request.method, request.headers)
        local = self.local.get(match.name)
        if local is not None:
            return local_preflight(request) if is_preflight else await local(request, exchange)
        target = self.targets.of(match.app_key)
        if is_preflight:
            return await preflight(request, exchange, target, raw_path, self.calls, self.answers)
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
        app = target.app
        if app is not None and app.min_client_app_version is not None:
            refused = retired(request, exchange, app, self.metrics)
            if refused is not None:
                return error_answer(request, exchange, refused, version, version)
        return await self._send(request, exchange, target, raw_path, match, version)

    def _classify(
        self, request: web.BaseRequest, exchange: Exchange
    ) -> tuple[str, RouteMatch] | KinveyError:
        """The path to forward and its route, or why the request is refused before anything."""
        raw_path = origin_form(request)
        if raw_path is None:
            return KinveyError("BadRequest", debug="invalid request target")
        unclear = routes.unclear_path(raw_path)
        if unclear is not None:
            self.metrics.gateway_error("bad_request")
            return KinveyError("BadRequest", debug=unclear)
        match = routes.match(raw_path)
        exchange.route = match.name
        if self.in_flight > self.max_in_flight:
            self.metrics.gateway_error("overloaded")
            return KinveyError(
                "KinveyInternalErrorRetry",
                status=503,
                debug="the gateway is overloaded; retry later",
            )
        return raw_path, match

    async def _send(
        self,
        request: web.BaseRequest,
        exchange: Exchange,
        target: AppTarget,
        raw_path: str,
        match: RouteMatch,
        version: int,
    ) -> Answer:
        """Plan, send (passed through or translated) and answer an admitted request."""
        pin, base_url = target.pin, target.base_url
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
            result = await self.calls.send(
                request, exchange, base_url, request.method, raw_path, request.headers, pin, body
            )
            # A v6 app changing its password passes through here: old apps' sessions must end.
            end_sessions_after_user_save(self.sessions, request.method, match, result.status)
        else:
            info = self.translation.request_info(
                request, exchange, target, raw_path, match, version, stream, preread
            )
            translated = await self.translation.run(request, exchange, plan, info, base_url)
            if isinstance(translated, KinveyError):  # the body was refused
                answer, sent = error_answer(request, exchange, translated, version, version)
                ask_retry_later(exchange, answer.status, answer.headers)
                return answer, sent
            result = translated
        return await self.answers.answer(
            request, exchange, result, version, base_url, replay, self.shadow
        )
