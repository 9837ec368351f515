"""What shadow comparisons found: metrics, the noise learned so far, and a ring of samples.

Noise is learned as Diffy learns it: a field that differs between two calls at the *current*
pin differs by itself (a timestamp, an ordering, a generated id), so a candidate difference in
that field says nothing about the candidate. The samples shown at ``GET /shadow`` are redacted:
values are replaced by their type and size unless ``shadow.show_values`` is on, and values
under secret-looking keys are never shown.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge

from gateway.observability.labels import api_version_label, route_label
from gateway.shadow.compare import Json

RESULTS: Final = ("same", "differs", "noise", "error", "skipped")
OTHER_FIELD: Final = "other"
# Distinct field-path label values before the rest fold into "other".
MAX_FIELD_LABELS: Final = 200
# Learned noisy paths kept per route (far above what a real answer has).
MAX_NOISE_PER_ROUTE: Final = 512
_SECRET_WORDS: Final = ("password", "secret", "token", "authorization", "credential")


@dataclass(frozen=True, slots=True)
class Sample:
    """One comparison that found differences, as shown at ``GET /shadow``."""

    at: float
    route: str
    method: str
    client_version: int
    current_pin: int
    candidate_pin: int
    fields: tuple[str, ...]
    values: dict[str, dict[str, str]] = field(default_factory=dict)


class ShadowRecorder:
    def __init__(
        self,
        registry: CollectorRegistry | None,
        *,
        candidate_pin: int,
        newest_api_version: int,
        ring_size: int,
        show_values: bool,
    ) -> None:
        self.show_values = show_values
        self._newest = newest_api_version
        self.samples: deque[Sample] = deque(maxlen=ring_size)
        self.noise: dict[str, set[str]] = {}
        self.totals: dict[tuple[str, str, str], int] = {}
        self._field_labels: set[str] = set()
        self._comparisons = Counter(
            "kgw_shadow_comparisons",
            "Shadow comparisons of a sampled read at the candidate pin, by result.",
            ("route", "api_version", "result"),
            registry=registry,
        )
        self._fields = Counter(
            "kgw_shadow_differing_fields",
            "Fields that differed at the candidate pin (ids folded), by route and client version.",
            ("route", "api_version", "field"),
            registry=registry,
        )
        Gauge(
            "kgw_shadow_candidate_api_version",
            "The candidate pin shadow comparison asks at (absent when shadow is off).",
            registry=registry,
        ).set(candidate_pin)

    def counted(self, route: str, client_version: int, result: str) -> None:
        labels = (route_label(route), api_version_label(client_version, self._newest), result)
        self._comparisons.labels(*labels).inc()
        self.totals[labels] = self.totals.get(labels, 0) + 1

    def learn_noise(self, route: str, paths: Iterable[str]) -> None:
        learned = self.noise.setdefault(route_label(route), set())
        for path in paths:
            if len(learned) < MAX_NOISE_PER_ROUTE:
                learned.add(path)

    def noisy(self, route: str) -> frozenset[str]:
        return frozenset(self.noise.get(route_label(route), ()))

    def differed(self, sample: Sample, old: Json | bytes, new: Json | bytes) -> None:
        version = api_version_label(sample.client_version, self._newest)
        for path in sample.fields:
            self._fields.labels(route_label(sample.route), version, self._field_label(path)).inc()
        values = {path: self._shown(path, old, new) for path in sample.fields}
        self.samples.append(
            Sample(
                sample.at,
                sample.route,
                sample.method,
                sample.client_version,
                sample.current_pin,
                sample.candidate_pin,
                sample.fields,
                values,
            )
        )

    def _field_label(self, path: str) -> str:
        if path in self._field_labels:
            return path
        if len(self._field_labels) < MAX_FIELD_LABELS:
            self._field_labels.add(path)
            return path
        return OTHER_FIELD

    def _shown(self, path: str, old: Json | bytes, new: Json | bytes) -> dict[str, str]:
        if path == "status" or path.startswith("header:"):
            return {}  # shown by the path itself; the statuses are in the sample
        secret = any(word in path.lower() for word in _SECRET_WORDS)
        return {
            "old": _describe(_at(old, path), reveal=self.show_values and not secret),
            "new": _describe(_at(new, path), reveal=self.show_values and not secret),
        }

    def snapshot(self) -> dict[str, object]:
        """The JSON served at ``GET /shadow``: totals, learned noise and the recent samples."""
        return {
            "generated_at": time.time(),
            "totals": [
                {"route": r, "api_version": v, "result": res, "count": n}
                for (r, v, res), n in sorted(self.totals.items())
            ],
            "noise": {route: sorted(paths) for route, paths in sorted(self.noise.items())},
            "samples": [
                {
                    "at": s.at,
                    "route": s.route,
                    "method": s.method,
                    "client_version": s.client_version,
                    "current_pin": s.current_pin,
                    "candidate_pin": s.candidate_pin,
                    "fields": list(s.fields),
                    "values": s.values,
                }
                for s in reversed(self.samples)
            ],
        }


_MISSING: Final = object()


def _at(body: Json | bytes, path: str) -> object:
    """The first value at a folded path (``[]`` takes the first element), or _MISSING."""
    if isinstance(body, bytes) or not path.startswith("$"):
        return _MISSING
    current: object = body
    for step in path[1:].replace("[]", ".[]").split("."):
        if not step:
            continue
        if step == "[]" and isinstance(current, list) and current:
            current = current[0]
        elif isinstance(current, dict) and step in current:
            current = current[step]
        else:
            return _MISSING
    return current


def _describe(value: object, *, reveal: bool) -> str:
    if value is _MISSING:
        return "<absent>"
    if (reveal and isinstance(value, str | int | float | bool)) or value is None:
        return repr(value)[:200]
    if isinstance(value, str):
        return f"<string of {len(value)} characters>"
    if isinstance(value, list):
        return f"<array of {len(value)}>"
    if isinstance(value, dict):
        return f"<object with {len(value)} fields>"
    return f"<{type(value).__name__}>"
