"""Soak samples, the growth after warm-up and the pass/fail verdict (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

# Connections come and go under load, so a few descriptors either way are not a leak.
FD_SLACK = 4


class Sample(NamedTuple):
    elapsed_s: float
    rss_kib: int
    open_fds: int
    requests: int
    errors: int
    cpu_s: float


class Verdict(NamedTuple):
    passed: bool
    rss_growth_pct: float
    fd_growth: int
    errors: int
    text: str


def soak_table(samples: Sequence[Sample], header: bool = True) -> str:
    lines = ["|   t s | RSS MiB | fds | requests | req/s | errors |", "|---|---|---|---|---|---|"]
    if not header:
        lines = []
    previous: Sample | None = None
    for s in samples:
        rate = ""
        if previous is not None and s.elapsed_s > previous.elapsed_s:
            rate = f"{(s.requests - previous.requests) / (s.elapsed_s - previous.elapsed_s):.0f}"
        lines.append(
            f"| {s.elapsed_s:5.0f} | {s.rss_kib / 1024:7.1f} | {s.open_fds:3d} | "
            f"{s.requests:8d} | {rate:>5} | {s.errors:6d} |"
        )
        previous = s
    return "\n".join(lines)


def baseline_sample(samples: Sequence[Sample], warmup_s: float) -> Sample:
    """The first sample taken at or after the end of the warm-up (else the last one)."""
    return next((s for s in samples if s.elapsed_s >= warmup_s), samples[-1])


def verdict(
    samples: Sequence[Sample], warmup_s: float, max_growth_pct: float, errors: Mapping[str, int]
) -> Verdict:
    """Pass when nothing failed and RSS and fds stayed within ``max_growth_pct`` after warm-up."""
    if not samples:
        return Verdict(False, 0.0, 0, sum(errors.values()), "no samples were taken")
    base, last = baseline_sample(samples, warmup_s), samples[-1]
    rss_growth = 100 * (last.rss_kib - base.rss_kib) / base.rss_kib if base.rss_kib else 0.0
    fd_growth = last.open_fds - base.open_fds
    fd_limit = max(FD_SLACK, base.open_fds * max_growth_pct / 100)
    error_count = sum(errors.values())
    passed = error_count == 0 and rss_growth < max_growth_pct and fd_growth <= fd_limit
    lines = [
        f"after warm-up (t={base.elapsed_s:.0f} s -> {last.elapsed_s:.0f} s): "
        f"RSS {base.rss_kib / 1024:.1f} -> {last.rss_kib / 1024:.1f} MiB ({rss_growth:+.1f}%, "
        f"limit {max_growth_pct:g}%), open fds {base.open_fds} -> {last.open_fds} "
        f"({fd_growth:+d}, limit {fd_limit:.0f})",
        f"requests {last.requests}, errors {error_count}"
        + (": " + ", ".join(f"{k} x{v}" for k, v in sorted(errors.items())) if errors else ""),
        "PASS" if passed else "FAIL",
    ]
    return Verdict(passed, round(rss_growth, 2), fd_growth, error_count, "\n".join(lines))
