"""The handler's one upstream call: headers rewritten for the upstream, the call timed and
counted, its failure turned into Kinvey's ``502``/``504``, the answer's body left unread
(``ResponseInfo.load`` buffers and decodes it, charged to the buffer budget, when a change
reads it)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterable

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from gateway.exchange import Exchange, read_translatable
from gateway.http import headers as header_rules
from gateway.http.budget import BufferBudget, Held
from gateway.http.upstream import UpstreamClient, UpstreamError
from gateway.kinvey.errors import KinveyError
from gateway.observability.metrics import Metrics
from gateway.observability.null_metrics import NullMetrics
from gateway.versioning.model import ResponseInfo

# A module attribute (not a direct call) so a test can count body buffering.
_read_upstream = read_translatable
_UNCOUNTED = NullMetrics()  # for the shadow calls of gateway/shadow/: no client traffic
Body = bytes | AsyncIterable[bytes] | None  # bytes, a stream of the client's body, or none


class UpstreamCall:
    def __init__(
        self, upstream: UpstreamClient, metrics: Metrics, max_body: int, buffers: BufferBudget
    ) -> None:
        self.upstream = upstream
        self.metrics = metrics
        self.max_body = max_body
        self.buffers = buffers
        self._authorities: dict[str, str] = {}

    async def send(
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
                upstream, headers, self.max_body, self.held(exchange).charge
            ),
            upstream_status=status,
            source=upstream,
        )

    def held(self, exchange: Exchange) -> Held:
        """The request's share of the buffer budget, taken when it first buffers a body."""
        held = exchange.held
        if held is None:
            held = exchange.held = self.buffers.hold()
        return held

    def _authority(self, base_url: str) -> str:
        authority = self._authorities.get(base_url)
        if authority is None:  # one per configured upstream: a handful
            authority = self._authorities[base_url] = URL(base_url).raw_authority
        return authority
