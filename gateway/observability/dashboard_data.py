"""The built-in dashboard's data: the registry's ``kgw_`` series folded into small totals.

The page (dashboard.html) polls this every few seconds and turns consecutive snapshots into
rates and windowed percentiles itself, so the server keeps no history and a snapshot is just
a pass over the registry (a few hundred samples). Counters are cumulative since the process
started; histogram buckets are cumulative per ``le`` summed over all label sets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.samples import Sample

from gateway.observability.labels import api_versions

Snapshot = dict[str, Any]


def _add(totals: dict[str, float], key: str, value: float) -> None:
    totals[key] = totals.get(key, 0.0) + value


def _bucket_totals(samples: Iterable[Sample]) -> list[list[float | None]]:
    """``[[le, cumulative count], ...]`` summed over label sets; ``le`` None means +Inf."""
    by_le: dict[float, float] = {}
    for sample in samples:
        le = float(sample.labels["le"])
        by_le[le] = by_le.get(le, 0.0) + sample.value
    return [[None if math.isinf(le) else le, count] for le, count in sorted(by_le.items())]


def _status_class(labels: dict[str, str]) -> str:
    code = labels["code"]
    return f"{code[0]}xx" if code[0].isdigit() else code


# counter sample -> the snapshot totals it adds to, each keyed by what the labels say
_TOTALS: dict[str, tuple[tuple[str, Callable[[dict[str, str]], str]], ...]] = {
    "kgw_http_requests_total": (
        ("requests_by_api_version", lambda labels: labels["api_version"]),
        ("requests_by_status_class", _status_class),
    ),
    "kgw_translations_total": (("translations_by_change", lambda labels: labels["change"]),),
    "kgw_translation_errors_total": (
        ("translation_errors_by_change", lambda labels: labels["change"]),
    ),
    "kgw_gateway_errors_total": (("gateway_errors_by_reason", lambda labels: labels["reason"]),),
    "kgw_upstream_requests_total": (
        ("upstream_requests_by_outcome", lambda labels: labels["outcome"]),
    ),
    "kgw_auth_exchanges_total": (
        ("auth_exchanges", lambda labels: f"{labels['kind']}/{labels['result']}"),
    ),
}
# histogram bucket sample -> the snapshot's buckets, summed over label sets
_BUCKETS = {
    "kgw_http_request_duration_seconds_bucket": "latency_buckets",
    "kgw_upstream_request_duration_seconds_bucket": "upstream_latency_buckets",
}


def dashboard_snapshot(
    registry: CollectorRegistry, *, upstream_api_version: int, newest_api_version: int
) -> Snapshot:
    totals: dict[str, dict[str, float]] = {key: {} for adds in _TOTALS.values() for key, _ in adds}
    buckets: dict[str, list[Sample]] = {key: [] for key in _BUCKETS.values()}
    single: dict[str, float] = {}
    build: dict[str, str] = {}
    release_samples: list[Sample] = []
    shadow: dict[str, dict[str, dict[str, float]]] = {}
    for family in registry.collect():
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, sample.value
            if name in _TOTALS:
                for key, keyed_by in _TOTALS[name]:
                    _add(totals[key], keyed_by(labels), value)
            elif name in _BUCKETS:
                buckets[_BUCKETS[name]].append(sample)
            elif name.startswith("kgw_client_release"):
                release_samples.append(sample)
            elif name == "kgw_shadow_comparisons_total":
                by_route = shadow.setdefault(labels["api_version"], {})
                _add(by_route.setdefault(labels["route"], {}), labels["result"], value)
            elif name == "kgw_build_info":
                build = dict(labels)
            elif name in _SINGLE_VALUES:
                single[_SINGLE_VALUES[name]] = value
    return {
        "time": time.time(),
        "upstream_api_version": upstream_api_version,
        "api_versions": list(api_versions(newest_api_version)),  # the page's rows, in order
        "gateway_version": build.get("version", ""),
        "tls_verify": build.get("tls_verify", ""),
        "requests_total": sum(totals["requests_by_api_version"].values()),
        **totals,
        **{key: _bucket_totals(samples) for key, samples in buckets.items()},
        "shadow_comparisons": shadow,
        **{key: single.get(key, 0.0) for key in _SINGLE_VALUES.values()},
        "client_releases": client_releases(release_samples),
    }


def client_releases(samples: Iterable[Sample]) -> dict[str, dict[str, Any]]:
    """Per app release label: totals by API version and SDK, refusals, first and last seen."""
    rows: dict[str, dict[str, Any]] = {}
    for sample in samples:
        row = rows.setdefault(
            sample.labels["app_release"],
            {"total": 0.0, "api_versions": {}, "sdks": {}, "refused": 0.0, "report_only": 0.0},
        )
        if sample.name == "kgw_client_releases_total":
            row["total"] += sample.value
            _add(row["api_versions"], sample.labels["api_version"], sample.value)
            _add(row["sdks"], sample.labels["sdk"], sample.value)
        elif sample.name == "kgw_client_release_refusals_total":
            row[sample.labels["mode"]] = row.get(sample.labels["mode"], 0.0) + sample.value
        elif sample.name == "kgw_client_release_first_seen_timestamp_seconds":
            row["first_seen"] = sample.value
        elif sample.name == "kgw_client_release_last_seen_timestamp_seconds":
            row["last_seen"] = sample.value
    return rows


_SINGLE_VALUES = {
    "kgw_http_requests_in_flight": "in_flight",
    "kgw_upstream_connections_created_total": "upstream_connections_created",
    "kgw_upstream_connections_reused_total": "upstream_connections_reused",
    "process_cpu_seconds_total": "process_cpu_seconds",
    "process_resident_memory_bytes": "process_resident_memory_bytes",
    "kgw_shadow_candidate_api_version": "shadow_candidate_api_version",
}
