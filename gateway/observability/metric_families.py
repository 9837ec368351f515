"""The ``kgw_`` metric families: names, help texts, label names and buckets (docs/observability.md).

Only the definitions live here; :mod:`gateway.observability.metrics` binds label values to
cells and counts on the hot path. Families over small fixed label sets are started at 0 here,
so "no errors" reads as 0, not "no data", and ``rate()``/``increase()`` see the first error.
"""

from __future__ import annotations

from itertools import product
from typing import Final

from gateway.observability import labels as lbl
from gateway.observability.series import Cell, CounterSet, HistogramSet

LATENCY_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0,
)  # fmt: skip


class GatewayFamilies:
    """One instance per ``Metrics``: the families it counts in, registered together."""

    def __init__(self) -> None:
        self.requests = CounterSet(
            "kgw_http_requests",
            "Requests answered to clients, by method, route, status code and client API version.",
            ("method", "route", "code", "api_version"),
        )
        self.request_duration = HistogramSet(
            "kgw_http_request_duration_seconds",
            "Time from receiving a request to finishing its response, as the client sees it.",
            ("method", "route", "status_class"),
            LATENCY_BUCKETS,
        )
        self.upstream_duration = HistogramSet(
            "kgw_upstream_request_duration_seconds",
            "Time of each call to the upstream (status_class 'error' when it gave no status).",
            ("route", "status_class"),
            LATENCY_BUCKETS,
        )
        self.upstream_requests = CounterSet(
            "kgw_upstream_requests",
            "Calls to the upstream by outcome (ok means an HTTP response of any status arrived).",
            ("route", "outcome"),
        )
        self.storage_requests = CounterSet(
            "kgw_storage_requests",
            "Calls to file storage (not the upstream): the probe for a file's bytes and the "
            "uploads made for old clients, by kind and outcome.",
            ("kind", "outcome"),
        )
        self.translations = CounterSet(
            "kgw_translations", "Version changes applied, by change and direction.",
            ("change", "direction"),
        )  # fmt: skip
        self.translation_errors = CounterSet(
            "kgw_translation_errors",
            "Version changes that raised while translating (a bug in a change file).",
            ("change",),
        )
        self.translation_refusals = CounterSet(
            "kgw_translation_refusals",
            "Requests a version change answered itself with a Kinvey error, by change and error.",
            ("change", "error"),
        )
        self.auth_exchanges = CounterSet(
            "kgw_auth_exchanges",
            "Extra upstream auth calls the gateway made for old clients (login on their behalf).",
            ("kind", "result", "cache"),
        )
        self.connections_created = CounterSet(
            "kgw_upstream_connections_created", "Upstream TCP/TLS connections opened."
        )
        self.connections_reused = CounterSet(
            "kgw_upstream_connections_reused",
            "Upstream requests sent on a pooled keep-alive connection.",
        )
        self.request_bytes = CounterSet(
            "kgw_http_request_size_bytes", "Request body bytes received from clients.", ("route",)
        )
        self.response_bytes = CounterSet(
            "kgw_http_response_size_bytes", "Response body bytes sent to clients.", ("route",)
        )
        self.gateway_errors = CounterSet(
            "kgw_gateway_errors",
            "Answers the gateway made itself instead of relaying the upstream's, by reason.",
            ("reason",),
        )

    def series(self) -> list[CounterSet | HistogramSet]:
        """The families in the order they are exposed."""
        return [
            self.requests,
            self.request_duration,
            self.upstream_duration,
            self.upstream_requests,
            self.storage_requests,
            self.translations,
            self.translation_errors,
            self.translation_refusals,
            self.auth_exchanges,
            self.connections_created,
            self.connections_reused,
            self.request_bytes,
            self.response_bytes,
            self.gateway_errors,
        ]

    def gateway_error_cells(self) -> dict[str, Cell]:
        """Every known reason, and ``other`` for the rest, at 0."""
        return {
            reason: self.gateway_errors.cell(reason)
            for reason in (*lbl.GATEWAY_ERROR_REASONS, lbl.OTHER_VALUE)
        }

    def storage_cells(self) -> dict[tuple[str, str], Cell]:
        """Every storage kind and outcome, at 0."""
        return {
            (kind, outcome): self.storage_requests.cell(kind, outcome)
            for kind, outcome in product(lbl.STORAGE_KINDS, lbl.UPSTREAM_OUTCOMES)
        }

    def start_auth_exchanges(self) -> None:
        for kind, result, cache in product(lbl.AUTH_KINDS, lbl.AUTH_RESULTS, lbl.AUTH_CACHE):
            self.auth_exchanges.cell(kind, result, cache)
