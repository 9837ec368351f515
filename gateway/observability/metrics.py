"""Counting the ``kgw_`` metrics on the hot path (the families: ``metric_families.py``).

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
from gateway.observability.metric_families import LATENCY_BUCKETS, GatewayFamilies
from gateway.observability.releases import DEFAULT_TOP_K, ReleaseMetrics
from gateway.observability.series import Cell, GaugeReading, SeriesCollector

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
        families = self._families = GatewayFamilies()
        self._in_flight = 0
        tls_label = "none" if tls_verify is None else str(tls_verify).lower()
        build_labels = (version, str(upstream_api_version), tls_label)
        in_flight = GaugeReading(
            "kgw_http_requests_in_flight",
            "Client requests being handled right now.",
            lambda: [((), float(self._in_flight))],
        )
        build_info = GaugeReading(
            "kgw_build_info",
            "Always 1; labels carry the gateway version and its upstream pin.",
            lambda: [(build_labels, 1.0)],
            ("version", "upstream_api_version", "tls_verify"),
        )
        registry.register(
            SeriesCollector([*families.series(), in_flight, build_info, *self.releases.series()])
        )
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        self._created_cell = families.connections_created.cell()
        self._reused_cell = families.connections_reused.cell()
        self._gateway_error_cells = families.gateway_error_cells()
        self._storage_cells = families.storage_cells()
        families.start_auth_exchanges()
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
            cell = self._families.translations.cell(change, folded)
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
                self._families.translation_refusals.cell(
                    change, lbl.one_of(error, lbl.KINVEY_ERRORS)
                ),
                self._gateway_error_cells[lbl.refusal_reason(error)],
            )
            _remember(self._refusal_cells, (change, error), cells)
        for cell in cells:
            cell[0] += 1

    def auth_exchange(self, kind: str, result: str, cache: str) -> None:
        key = (kind, result, cache)
        cell = self._auth_cells.get(key)
        if cell is None:
            cell = self._families.auth_exchanges.cell(
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
            self._families.requests.cell(
                m,
                r,
                lbl.code_label(status),
                lbl.api_version_label(api_version, self._newest_api_version),
            ),
            self._families.request_duration.cell(m, r, lbl.status_class_label(status)),
            self._families.request_bytes.cell(r),
            self._families.response_bytes.cell(r),
        )
        _remember(self._request_cells, key, cells)
        return cells

    def _bind_upstream(self, key: tuple[str, int | None, str]) -> _UpstreamCells:
        route, status, outcome = key
        r = lbl.route_label(route)
        cells = (
            self._families.upstream_requests.cell(r, lbl.one_of(outcome, lbl.UPSTREAM_OUTCOMES)),
            self._families.upstream_duration.cell(r, lbl.status_class_label(status)),
        )
        _remember(self._upstream_cells, key, cells)
        return cells

    def _translation_error_cell(self, change: str) -> Cell:
        cell = self._translation_error_cells.get(change)
        if cell is None:
            cell = self._families.translation_errors.cell(change)
            _remember(self._translation_error_cells, change, cell)
        return cell


def _remember(cache: dict[_K, _V], key: _K, value: _V) -> None:
    if len(cache) < RAW_KEY_CACHE_LIMIT:
        cache[key] = value
