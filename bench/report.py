"""Turn per-round samples into medians and a Markdown table with gateway ratios (pure)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.cases import GATEWAYS, NGINX, PLAIN, Case

# The per-round figures that get a median (errors are summed instead).
MEDIAN_FIELDS = ("requests_per_s", "cpu_us_per_request", "p50_ms", "p99_ms", "mib_per_s")


@dataclass(frozen=True)
class Summary:
    case: str
    target: str
    rounds: int
    requests_per_s: float
    cpu_us_per_request: float
    p50_ms: float
    p99_ms: float
    errors: int
    mib_per_s: float | None
    peak_rss_mib: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize(samples: Sequence[Mapping[str, Any]]) -> list[Summary]:
    """One Summary per (case, target), in first-seen order: medians over rounds."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for sample in samples:
        groups.setdefault((sample["case"], sample["target"]), []).append(sample)
    out = []
    for (case, target), group in groups.items():
        medians = {name: _median(s.get(name) for s in group) for name in MEDIAN_FIELDS}
        peaks = [s["peak_rss_mib"] for s in group if s.get("peak_rss_mib") is not None]
        out.append(
            Summary(
                case=case,
                target=target,
                rounds=len(group),
                requests_per_s=medians["requests_per_s"] or 0.0,
                cpu_us_per_request=medians["cpu_us_per_request"] or 0.0,
                p50_ms=medians["p50_ms"] or 0.0,
                p99_ms=medians["p99_ms"] or 0.0,
                errors=sum(int(s["errors"]) for s in group),
                mib_per_s=medians["mib_per_s"],
                peak_rss_mib=max(peaks) if peaks else None,
            )
        )
    return out


def _ratio(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "n/a"
    return f"{value / reference:.2f}"


def _cell(value: float | None, fmt: str, refs: Mapping[str, float | None] | None) -> str:
    if value is None:
        return "-"
    text = format(value, fmt)
    if refs:
        text += " (" + ", ".join(f"{_ratio(value, r)}x {n}" for n, r in refs.items()) + ")"
    return text


def _refs(
    row: Summary, by_key: Mapping[tuple[str, str], Summary], field: str
) -> dict[str, float | None] | None:
    if row.target not in GATEWAYS:
        return None
    refs: dict[str, float | None] = {}
    for name in (PLAIN, NGINX):
        other = by_key.get((row.case, name))
        refs[name] = getattr(other, field) if other is not None else None
    return refs


def results_table(summaries: Sequence[Summary], cases: Sequence[Case]) -> str:
    """The main table; each gateway figure also as a ratio to plain aiohttp and to nginx."""
    by_key = {(s.case, s.target): s for s in summaries}
    head = (
        "| case | target | req/s | CPU µs/req | p50 ms | p99 ms | errors | MiB/s | peak RSS MiB |"
    )
    lines = [head, "|" + "---|" * 9]
    for case in cases:
        for row in (s for s in summaries if s.case == case.name):
            cells = [
                case.name,
                row.target,
                _cell(row.requests_per_s, ".0f", _refs(row, by_key, "requests_per_s")),
                _cell(row.cpu_us_per_request, ".0f", _refs(row, by_key, "cpu_us_per_request")),
                _cell(row.p50_ms, ".2f", _refs(row, by_key, "p50_ms")),
                _cell(row.p99_ms, ".2f", _refs(row, by_key, "p99_ms")),
                str(row.errors),
                _cell(row.mib_per_s, ".0f", _refs(row, by_key, "mib_per_s")),
                _cell(row.peak_rss_mib, ".1f", _refs(row, by_key, "peak_rss_mib")),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def startup_table(startup: Mapping[str, Mapping[str, float]]) -> str:
    lines = ["| process | spawn → ready ms (median) | idle RSS MiB |", "|---|---|---|"]
    for name, figures in startup.items():
        lines.append(f"| {name} | {figures['ready_ms']:.0f} | {figures['idle_rss_mib']:.1f} |")
    return "\n".join(lines)


def case_legend(cases: Sequence[Case]) -> str:
    return "\n".join(
        f"- `{c.name}`: {c.title}; `{c.method} {c.path}`, {c.connections} connections"
        for c in cases
    )


def contention_line(samples: Sequence[Mapping[str, Any]], cpu: int) -> str:
    """How much other processes used the proxy's CPU during the timed runs (shared machines)."""
    loads = sorted(float(s.get("foreign_cpu_pct") or 0.0) for s in samples)
    steal = max(float(s.get("steal_cpu_pct") or 0.0) for s in samples)
    return (
        f"Other processes on CPU {cpu} during the runs: median {statistics.median(loads):.0f}%, "
        f"max {loads[-1]:.0f}% of the CPU (hypervisor steal up to {steal:.0f}%); with a "
        "negative niceness they mostly fill the proxy's idle gaps. CPU µs/req counts only "
        "the proxy's own time."
    )
