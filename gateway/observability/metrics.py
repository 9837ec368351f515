"""Every ``kgw_`` metric: names, labels and buckets in one place (docs/observability.md).

The proxy calls one method per event, on the hot path of every request. So label values are
normalised once per distinct argument tuple and the resulting cells cached in dicts keyed by
the raw arguments; a repeated request then costs a dict lookup and a few float additions
(:mod:`gateway.observability.series`: no locks, no prometheus-client objects per call). The
caches are bounded: raw keys are cached only up to a limit (random methods from a client
cannot grow them), and the cells behind them are bounded by the label sets in
:mod:`gateway.observability.labels`. Call from the event loop thread only.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from itertools import product
from typing import Final, TypeVar

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)

from gateway.kinvey.client_identity import ClientIdentity
from gateway.kinvey.version_header import KINVEY_NEWEST_VERSION
from gateway.observability import labels as lbl
from gateway.observability.releases import DEFAULT_TOP_K, ReleaseMetrics
from gateway.observability.series import (
    Cell,
    CounterSet,
    GaugeReading,
    HistogramSet,
    SeriesCollector,
)

LATENCY_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0,
)  # fmt: skip
_BOUNDS: Final = LATENCY_BUCKETS
_SUM: Final = len(LATENCY_BUCKETS) + 1  # index of the sum in a histogram cell
# Raw-argument cache entries per method; far above real traffic's distinct combinations.
RAW_KEY_CACHE_LIMIT: Final = 4096

_RequestCells = tuple[Cell, Cell, Cell, Cell]  # count, latency histogram, bytes in, bytes out
_UpstreamCells = tuple[Cell, Cell]  # count by outcome, latency histogram
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
        tls_verify: bool | None = True,
        newest_api_version: int = KINVEY_NEWEST_VERSION,
        release_top_k: int = DEFAULT_TOP_K,
    ) -> None:
        """``tls_verify`` None: the upstream is plain http://, nothing to verify.
        ``newest_api_version``: the newest version the gateway knows (from the change bundle)."""
        self._newest_api_version = newest_api_version
        self.releases = ReleaseMetrics(release_top_k, newest_api_version)
        self._requests = CounterSet(
            "kgw_http_requests",
            "Requests answered to clients, by method, route, status code and client API version.",
            ("method", "route", "code", "api_version"),
        )
        self._request_duration = HistogramSet(
            "kgw_http_request_duration_seconds",
            "Time from receiving a request to finishing its response, as the client sees it.",
            ("method", "route", "status_class"),
            LATENCY_BUCKETS,
        )
        self._upstream_duration = HistogramSet(
            "kgw_upstream_request_duration_seconds",
            "Time of each call to the upstream (status_class 'error' when it gave no status).",
            ("route", "status_class"),
            LATENCY_BUCKETS,
        )
        self._upstream_requests = CounterSet(
            "kgw_upstream_requests",
            "Calls to the upstream by outcome (ok means an HTTP response of any status arrived).",
            ("route", "outcome"),
        )
        self._storage_requests = CounterSet(
            "kgw_storage_requests",
            "Calls to file storage (not the upstream): the probe for a file's bytes and the "
            "uploads made for old clients, by kind and outcome.",
            ("kind", "outcome"),
        )
        self._translations = CounterSet(
            "kgw_translations", "Version changes applied, by change and direction.",
            ("change", "direction"),
        )  # fmt: skip
        self._translation_errors = CounterSet(
            "kgw_translation_errors",
            "Version changes that raised while translating (a bug in a change file).",
            ("change",),
        )
        self._translation_refusals = CounterSet(
            "kgw_translation_refusals",
            "Requests a version change answered itself with a Kinvey error, by change and error.",
            ("change", "error"),
        )
        self._auth_exchanges = CounterSet(
            "kgw_auth_exchanges",
            "Extra upstream auth calls the gateway made for old clients (login on their behalf).",
            ("kind", "result", "cache"),
        )
        self._connections_created = CounterSet(
            "kgw_upstream_connections_created", "Upstream TCP/TLS connections opened."
        )
        self._connections_reused = CounterSet(
            "kgw_upstream_connections_reused",
            "Upstream requests sent on a pooled keep-alive connection.",
        )
        self._request_bytes = CounterSet(
            "kgw_http_request_size_bytes", "Request body bytes received from clients.", ("route",)
        )
        self._response_bytes = CounterSet(
            "kgw_http_response_size_bytes", "Response body bytes sent to clients.", ("route",)
        )
        self._gateway_errors = CounterSet(
            "kgw_gateway_errors",
            "Answers the gateway made itself instead of relaying the upstream's, by reason.",
            ("reason",),
        )
        self._in_flight = 0
        tls_label = "none" if tls_verify is None else str(tls_verify).lower()
        build_labels = (version, str(upstream_api_version), tls_label)
        self._created_cell = self._connections_created.cell()
        self._reused_cell = self._connections_reused.cell()
        registry.register(
            SeriesCollector(
                [
                    self._requests,
                    self._request_duration,
                    self._upstream_duration,
                    self._upstream_requests,
                    self._storage_requests,
                    self._translations,
                    self._translation_errors,
                    self._translation_refusals,
                    self._auth_exchanges,
                    GaugeReading(
                        "kgw_http_requests_in_flight",
                        "Client requests being handled right now.",
                        lambda: [((), float(self._in_flight))],
                    ),
                    self._connections_created,
                    self._connections_reused,
                    self._request_bytes,
                    self._response_bytes,
                    self._gateway_errors,
                    GaugeReading(
                        "kgw_build_info",
                        "Always 1; labels carry the gateway version and its upstream pin.",
                        lambda: [(build_labels, 1.0)],
                        ("version", "upstream_api_version", "tls_verify"),
                    ),
                    *self.releases.series(),
                ]
            )
        )
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)

        # Series over small fixed label sets start at 0, so "no errors" reads as 0, not "no data",
        # and rate()/increase() see the first error.
        self._gateway_error_cells = {
            reason: self._gateway_errors.cell(reason)
            for reason in (*lbl.GATEWAY_ERROR_REASONS, lbl.OTHER_VALUE)
        }
        self._storage_cells = {
            (kind, outcome): self._storage_requests.cell(kind, outcome)
            for kind, outcome in product(lbl.STORAGE_KINDS, lbl.UPSTREAM_OUTCOMES)
        }
        for kind, result, cache in product(lbl.AUTH_KINDS, lbl.AUTH_RESULTS, lbl.AUTH_CACHE):
            self._auth_exchanges.cell(kind, result, cache)

        self._request_cells: dict[tuple[str, str, int, int | None], _RequestCells] = {}
        self._upstream_cells: dict[tuple[str, int | None, str], _UpstreamCells] = {}
        self._translation_cells: dict[tuple[str, str], Cell] = {}
        self._translation_error_cells: dict[str, Cell] = {}
        self._refusal_cells: dict[tuple[str, str], tuple[Cell, Cell]] = {}
        self._auth_cells: dict[tuple[str, str, str], Cell] = {}

    def register_changes(self, changes: Iterable[str]) -> None:
        """Start ``kgw_translation_errors_total`` at 0 for each change name (at start-up).

        Without this call a change's error series appears, at 0, when it is first applied.
        """
        for change in changes:
            self._translation_error_cell(change)

    def request_started(self) -> None:
        self._in_flight += 1

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
        self._in_flight -= 1
        key = (method, route, status, api_version)
        cells = self._request_cells.get(key)
        if cells is None:
            cells = self._bind_request(key)
        count, latency, received, sent = cells
        count[0] += 1
        latency[bisect_left(_BOUNDS, duration)] += 1
        latency[_SUM] += duration
        received[0] += request_bytes
        sent[0] += response_bytes

    def client_request(
        self, identity: ClientIdentity, api_version: int | None, refusal: str | None, now: float
    ) -> None:
        """One request by app release and SDK; ``refusal`` is its retirement verdict, if any."""
        self.releases.observe(identity, api_version, refusal, now)

    def upstream_finished(
        self, *, route: str, status: int | None, outcome: str, duration: float
    ) -> None:
        key = (route, status, outcome)
        cells = self._upstream_cells.get(key)
        if cells is None:
            cells = self._bind_upstream(key)
        count, latency = cells
        count[0] += 1
        latency[bisect_left(_BOUNDS, duration)] += 1
        latency[_SUM] += duration

    def storage_finished(self, kind: str, outcome: str) -> None:
        cell = self._storage_cells.get((kind, outcome))
        if cell is not None:
            cell[0] += 1

    def translation_applied(self, change: str, direction: str) -> None:
        cell = self._translation_cells.get((change, direction))
        if cell is None:
            folded = lbl.one_of(direction, lbl.TRANSLATION_DIRECTIONS)
            cell = self._translations.cell(change, folded)
            _remember(self._translation_cells, (change, direction), cell)
            self._translation_error_cell(change)  # its error count exists (at 0) from now on
        cell[0] += 1

    def translation_failed(self, change: str) -> None:
        self._translation_error_cell(change)[0] += 1

    def translation_refused(self, change: str, error: str) -> None:
        """Counted by change and error, and as an answer the gateway made itself."""
        cells = self._refusal_cells.get((change, error))
        if cells is None:
            cells = (
                self._translation_refusals.cell(change, lbl.one_of(error, lbl.KINVEY_ERRORS)),
                self._gateway_error_cells[lbl.refusal_reason(error)],
            )
            _remember(self._refusal_cells, (change, error), cells)
        for cell in cells:
            cell[0] += 1

    def auth_exchange(self, kind: str, result: str, cache: str) -> None:
        key = (kind, result, cache)
        cell = self._auth_cells.get(key)
        if cell is None:
            cell = self._auth_exchanges.cell(
                lbl.one_of(kind, lbl.AUTH_KINDS),
                lbl.one_of(result, lbl.AUTH_RESULTS),
                lbl.one_of(cache, lbl.AUTH_CACHE),
            )
            _remember(self._auth_cells, key, cell)
        cell[0] += 1

    def gateway_error(self, reason: str) -> None:
        cells = self._gateway_error_cells
        (cells.get(reason) or cells[lbl.OTHER_VALUE])[0] += 1

    def connection_opened(self) -> None:
        self._created_cell[0] += 1

    def connection_reused(self) -> None:
        self._reused_cell[0] += 1

    def _bind_request(self, key: tuple[str, str, int, int | None]) -> _RequestCells:
        method, route, status, api_version = key
        m, r = lbl.method_label(method), lbl.route_label(route)
        cells = (
            self._requests.cell(
                m,
                r,
                lbl.code_label(status),
                lbl.api_version_label(api_version, self._newest_api_version),
            ),
            self._request_duration.cell(m, r, lbl.status_class_label(status)),
            self._request_bytes.cell(r),
            self._response_bytes.cell(r),
        )
        _remember(self._request_cells, key, cells)
        return cells

    def _bind_upstream(self, key: tuple[str, int | None, str]) -> _UpstreamCells:
        route, status, outcome = key
        r = lbl.route_label(route)
        cells = (
            self._upstream_requests.cell(r, lbl.one_of(outcome, lbl.UPSTREAM_OUTCOMES)),
            self._upstream_duration.cell(r, lbl.status_class_label(status)),
        )
        _remember(self._upstream_cells, key, cells)
        return cells

    def _translation_error_cell(self, change: str) -> Cell:
        cell = self._translation_error_cells.get(change)
        if cell is None:
            cell = self._translation_errors.cell(change)
            _remember(self._translation_error_cells, change, cell)
        return cell


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

    def client_request(
        self, identity: ClientIdentity, api_version: int | None, refusal: str | None, now: float
    ) -> None:
        pass

    def upstream_finished(
        self, *, route: str, status: int | None, outcome: str, duration: float
    ) -> None:
        pass

    def storage_finished(self, kind: str, outcome: str) -> None:
        pass

    def translation_applied(self, change: str, direction: str) -> None:
        pass

    def translation_failed(self, change: str) -> None:
        pass

    def translation_refused(self, change: str, error: str) -> None:
        pass

    def auth_exchange(self, kind: str, result: str, cache: str) -> None:
        pass

    def gateway_error(self, reason: str) -> None:
        pass

    def connection_opened(self) -> None:
        pass

    def connection_reused(self) -> None:
        pass


def _remember(cache: dict[_K, _V], key: _K, value: _V) -> None:
    if len(cache) < RAW_KEY_CACHE_LIMIT:
        cache[key] = value
