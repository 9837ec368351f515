"""Every ``kgw_`` metric: names, labels and buckets in one place (docs/observability.md).

The proxy calls one method per event. Those calls sit on the hot path of every request, so
label children are bound once and cached in dicts keyed by the raw arguments: a repeated
request costs a dict lookup plus the counter increments, never a ``labels(...)`` call or a
normalisation. The caches are bounded: raw keys are cached only up to a limit (an attacker
sending random methods cannot grow them), the normalised children behind them are bounded by
the label sets in :mod:`gateway.observability.labels`.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import product
from types import SimpleNamespace
from typing import Final, TypeVar

import aiohttp
from aiohttp import TraceConnectionCreateEndParams, TraceConnectionReuseconnParams
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

from gateway.observability import labels as lbl

LATENCY_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0,
)  # fmt: skip
# Raw-argument cache entries per method; far above real traffic's distinct combinations.
RAW_KEY_CACHE_LIMIT: Final = 4096

_RequestChildren = tuple[Counter, Histogram, Counter, Counter]
_UpstreamChildren = tuple[Counter, Histogram]
_K = TypeVar("_K")
_V = TypeVar("_V")


class Metrics:
    """The gateway's metrics, registered on an injected registry (tests pass a fresh one)."""

    enabled: bool = True

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        version: str,
        upstream_api_version: int,
        tls_verify: bool = True,
    ) -> None:
        self._requests = Counter(
            "kgw_http_requests",
            "Requests answered to clients, by method, route, status code and client API version.",
            ("method", "route", "code", "api_version"),
            registry=registry,
        )
        self._request_duration = Histogram(
            "kgw_http_request_duration_seconds",
            "Time from receiving a request to finishing its response, as the client sees it.",
            ("method", "route", "status_class"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._upstream_duration = Histogram(
            "kgw_upstream_request_duration_seconds",
            "Time of each call to the upstream (status_class 'error' when it gave no status).",
            ("route", "status_class"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._upstream_requests = Counter(
            "kgw_upstream_requests",
            "Calls to the upstream by outcome (ok means an HTTP response of any status arrived).",
            ("route", "outcome"),
            registry=registry,
        )
        self._translations = Counter(
            "kgw_translations",
            "Version changes applied, by change and direction.",
            ("change", "direction"),
            registry=registry,
        )
        self._translation_errors = Counter(
            "kgw_translation_errors",
            "Version changes that raised while translating (a bug in a change file).",
            ("change",),
            registry=registry,
        )
        self._auth_exchanges = Counter(
            "kgw_auth_exchanges",
            "Extra upstream auth calls the gateway made for old clients (login on their behalf).",
            ("kind", "result", "cache"),
            registry=registry,
        )
        self._in_flight = Gauge(
            "kgw_http_requests_in_flight",
            "Client requests being handled right now.",
            registry=registry,
        )
        self._connections_created = Counter(
            "kgw_upstream_connections_created",
            "Upstream TCP/TLS connections opened.",
            registry=registry,
        )
        self._connections_reused = Counter(
            "kgw_upstream_connections_reused",
            "Upstream requests sent on a pooled keep-alive connection.",
            registry=registry,
        )
        self._request_bytes = Counter(
            "kgw_http_request_size_bytes",
            "Request body bytes received from clients.",
            ("route",),
            registry=registry,
        )
        self._response_bytes = Counter(
            "kgw_http_response_size_bytes",
            "Response body bytes sent to clients.",
            ("route",),
            registry=registry,
        )
        self._gateway_errors = Counter(
            "kgw_gateway_errors",
            "Answers the gateway made itself instead of relaying the upstream's, by reason.",
            ("reason",),
            registry=registry,
        )
        build_info = Gauge(
            "kgw_build_info",
            "Always 1; labels carry the gateway version and its upstream pin.",
            ("version", "upstream_api_version", "tls_verify"),
            registry=registry,
        )
        build_info.labels(version, str(upstream_api_version), str(tls_verify).lower()).set(1)
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)

        # Series over small fixed label sets start at 0, so "no errors" reads as 0, not "no data",
        # and rate()/increase() see the first error.
        self._gateway_error_children = {
            reason: self._gateway_errors.labels(reason)
            for reason in (*lbl.GATEWAY_ERROR_REASONS, lbl.OTHER_VALUE)
        }
        for kind, result, cache in product(lbl.AUTH_KINDS, lbl.AUTH_RESULTS, lbl.AUTH_CACHE):
            self._auth_exchanges.labels(kind, result, cache)

        self._request_children: dict[tuple[str, str, int, int | None], _RequestChildren] = {}
        self._request_bound: dict[tuple[str, str, str, str, str], _RequestChildren] = {}
        self._upstream_children: dict[tuple[str, int | None, str], _UpstreamChildren] = {}
        self._translation_children: dict[tuple[str, str], Counter] = {}
        self._translation_error_children: dict[str, Counter] = {}
        self._auth_children: dict[tuple[str, str, str], Counter] = {}

    def register_changes(self, changes: Iterable[str]) -> None:
        """Start ``kgw_translation_errors_total`` at 0 for each change name (at start-up).

        Without this call a change's error series appears, at 0, when it is first applied.
        """
        for change in changes:
            self._translation_error_child(change)

    def request_started(self) -> None:
        self._in_flight.inc()

    def request_finished(
        self,
        *,
        method: str,
        route: str,
        status: int,
        api_version: int | None,
        duration: float,
        request_bytes: int,
        response_bytes: int,
    ) -> None:
        self._in_flight.dec()
        key = (method, route, status, api_version)
        children = self._request_children.get(key)
        if children is None:
            children = self._bind_request(key)
        count, latency, received, sent = children
        count.inc()
        latency.observe(duration)
        if request_bytes > 0:
            received.inc(request_bytes)
        if response_bytes > 0:
            sent.inc(response_bytes)

    def upstream_finished(
        self, *, route: str, status: int | None, outcome: str, duration: float
    ) -> None:
        key = (route, status, outcome)
        children = self._upstream_children.get(key)
        if children is None:
            children = self._bind_upstream(key)
        children[0].inc()
        children[1].observe(duration)

    def translation_applied(self, change: str, direction: str) -> None:
        child = self._translation_children.get((change, direction))
        if child is None:
            folded = lbl.one_of(direction, lbl.TRANSLATION_DIRECTIONS)
            child = self._translations.labels(change, folded)
            _remember(self._translation_children, (change, direction), child)
            self._translation_error_child(change)  # its error count exists (at 0) from now on
        child.inc()

    def translation_failed(self, change: str) -> None:
        self._translation_error_child(change).inc()

    def auth_exchange(self, kind: str, result: str, cache: str) -> None:
        key = (kind, result, cache)
        child = self._auth_children.get(key)
        if child is None:
            child = self._auth_exchanges.labels(
                lbl.one_of(kind, lbl.AUTH_KINDS),
                lbl.one_of(result, lbl.AUTH_RESULTS),
                lbl.one_of(cache, lbl.AUTH_CACHE),
            )
            _remember(self._auth_children, key, child)
        child.inc()

    def gateway_error(self, reason: str) -> None:
        children = self._gateway_error_children
        (children.get(reason) or children[lbl.OTHER_VALUE]).inc()

    def trace_config(self) -> aiohttp.TraceConfig:
        """Count upstream connections opened vs reused (pass to the ClientSession)."""
        created, reused = self._connections_created, self._connections_reused

        async def on_created(
            _s: aiohttp.ClientSession, _c: SimpleNamespace, _p: TraceConnectionCreateEndParams
        ) -> None:
            created.inc()

        async def on_reused(
            _s: aiohttp.ClientSession, _c: SimpleNamespace, _p: TraceConnectionReuseconnParams
        ) -> None:
            reused.inc()

        config = aiohttp.TraceConfig()
        config.on_connection_create_end.append(on_created)
        config.on_connection_reuseconn.append(on_reused)
        return config

    def _bind_request(self, key: tuple[str, str, int, int | None]) -> _RequestChildren:
        method, route, status, api_version = key
        m, r = lbl.method_label(method), lbl.route_label(route)
        bound_key = (m, r, lbl.code_label(status), lbl.status_class_label(status),
                     lbl.api_version_label(api_version))  # fmt: skip
        children = self._request_bound.get(bound_key)
        if children is None:
            children = (
                self._requests.labels(m, r, bound_key[2], bound_key[4]),
                self._request_duration.labels(m, r, bound_key[3]),
                self._request_bytes.labels(r),
                self._response_bytes.labels(r),
            )
            self._request_bound[bound_key] = children
        _remember(self._request_children, key, children)
        return children

    def _bind_upstream(self, key: tuple[str, int | None, str]) -> _UpstreamChildren:
        route, status, outcome = key
        r = lbl.route_label(route)
        children = (
            self._upstream_requests.labels(r, lbl.one_of(outcome, lbl.UPSTREAM_OUTCOMES)),
            self._upstream_duration.labels(r, lbl.status_class_label(status)),
        )
        _remember(self._upstream_children, key, children)
        return children

    def _translation_error_child(self, change: str) -> Counter:
        child = self._translation_error_children.get(change)
        if child is None:
            child = self._translation_errors.labels(change)
            _remember(self._translation_error_children, change, child)
        return child


class NullMetrics(Metrics):
    """The same calls, doing nothing: ``metrics.enabled: false`` and the benchmark baseline."""

    enabled = False

    def __init__(self) -> None:  # registers nothing, on purpose
        pass

    def register_changes(self, changes: Iterable[str]) -> None:
        pass

    def request_started(self) -> None:
        pass

    def request_finished(
        self,
        *,
        method: str,
        route: str,
        status: int,
        api_version: int | None,
        duration: float,
        request_bytes: int,
        response_bytes: int,
    ) -> None:
        pass

    def upstream_finished(
        self, *, route: str, status: int | None, outcome: str, duration: float
    ) -> None:
        pass

    def translation_applied(self, change: str, direction: str) -> None:
        pass

    def translation_failed(self, change: str) -> None:
        pass

    def auth_exchange(self, kind: str, result: str, cache: str) -> None:
        pass

    def gateway_error(self, reason: str) -> None:
        pass

    def trace_config(self) -> aiohttp.TraceConfig:
        """An empty config; better still, pass no trace config when ``enabled`` is False."""
        return aiohttp.TraceConfig()


def _remember(cache: dict[_K, _V], key: _K, value: _V) -> None:
    if len(cache) < RAW_KEY_CACHE_LIMIT:
        cache[key] = value
