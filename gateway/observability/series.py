"""Lock-free counters and histograms for the event loop, exported through one Collector.

prometheus-client's own metric objects take a lock on every increment (about 1 to 3 µs each on
this hardware, five to ten of them per request). The gateway updates its metrics only from
the event loop thread, and scrapes run on that same loop, so plain floats in lists suffice: an
increment is a list-item add, a histogram observation one C ``bisect`` plus two adds. Values
are turned into standard metric families only when Prometheus scrapes.

Not thread-safe by design: call ``inc``/``observe`` paths from the event loop thread only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

Labels = tuple[str, ...]
# A counter cell is [value]; a histogram cell is [bucket counts..., +Inf count, sum].
Cell = list[float]


class CounterSet:
    """One counter metric: a cell per label tuple (``cell[0] += n`` to count)."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self.cells: dict[Labels, Cell] = {}

    def cell(self, *labels: str) -> Cell:
        found = self.cells.get(labels)
        if found is None:
            found = self.cells[labels] = [0.0]
        return found

    def family(self) -> Metric:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, cell in self.cells.items():
            family.add_metric(labels, cell[0])
        return family


class HistogramSet:
    """One histogram metric: per label tuple, non-cumulative bucket counts and the sum."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float],
    ) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self.bounds = tuple(float(b) for b in buckets)
        self._bucket_labels = [repr(b) for b in self.bounds] + ["+Inf"]  # as Go formats them
        self.cells: dict[Labels, Cell] = {}

    def cell(self, *labels: str) -> Cell:
        found = self.cells.get(labels)
        if found is None:
            found = self.cells[labels] = [0.0] * (len(self.bounds) + 2)
        return found

    def family(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, cell in self.cells.items():
            cumulative, buckets = 0.0, []
            for bucket_label, count in zip(self._bucket_labels, cell, strict=False):
                cumulative += count
                buckets.append((bucket_label, cumulative))
            family.add_metric(labels, buckets, sum_value=cell[-1])
        return family


class GaugeReading:
    """A gauge whose value (per label tuple) is read when scraped."""

    def __init__(
        self,
        name: str,
        documentation: str,
        read: Callable[[], Iterable[tuple[Labels, float]]],
        labelnames: Sequence[str] = (),
    ) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self._read = read

    def family(self) -> Metric:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in self._read():
            family.add_metric(labels, value)
        return family


class SeriesCollector(Collector):
    """Exports a fixed list of metric sets; register it once on a registry."""

    def __init__(self, metrics: Sequence[CounterSet | HistogramSet | GaugeReading]) -> None:
        self._metrics = tuple(metrics)

    def collect(self) -> Iterator[Metric]:
        for metric in self._metrics:
            yield metric.family()

    def describe(self) -> Iterator[Metric]:
        """Names only (lets the registry refuse a second, clashing registration)."""
        for metric in self._metrics:
            kind = {CounterSet: CounterMetricFamily, HistogramSet: HistogramMetricFamily}
            yield kind.get(type(metric), GaugeMetricFamily)(
                metric.name, metric.documentation, labels=metric.labelnames
            )
