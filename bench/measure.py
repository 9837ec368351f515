"""One timed wrk run against one target, with the proxy's CPU time and memory from /proc."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import fixtures as fx
from bench.cases import Case
from bench.procs import ProcessSet, cpu_seconds, cpu_times, reset_peak_rss, status_kib
from bench.targets import LOAD_CPU, PROXY_CPU, Running
from bench.wrk import run_wrk

MIB = 1024 * 1024


def timed_run(
    target: Running, case: Case, script: Path, *, duration_s: int, round_no: int
) -> dict[str, Any]:
    """Run wrk once; CPU per request = the proxy's utime+stime delta / requests."""
    target.refresh_pids()
    if case.transfer:
        reset_peak_rss(target.pids)
    cpu_before = cpu_seconds(target.pids)
    busy_before, steal_before = cpu_times(PROXY_CPU)
    wall_before = time.monotonic()
    result = run_wrk(
        target.base_url + case.path,
        script,
        connections=case.connections,
        duration_s=duration_s,
        cpu=LOAD_CPU,
    )
    cpu_used = cpu_seconds(target.pids) - cpu_before
    busy_after, steal_after = cpu_times(PROXY_CPU)
    wall = time.monotonic() - wall_before
    # Others' processes on the proxy's CPU (this machine is shared): busy time not ours.
    foreign = max(0.0, busy_after - busy_before - cpu_used)
    sample: dict[str, Any] = {
        "round": round_no,
        "case": case.name,
        "target": target.name,
        "requests_per_s": result.requests_per_s,
        "cpu_s": cpu_used,
        "cpu_us_per_request": cpu_used / result.requests * 1e6 if result.requests else None,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "errors": result.errors,
        "mib_per_s": None,
        "peak_rss_mib": None,
        "foreign_cpu_pct": round(100 * foreign / wall, 1),
        "steal_cpu_pct": round(100 * (steal_after - steal_before) / wall, 1),
        "wrk": result.to_json(),
    }
    if case.transfer and result.duration_s:
        moved = (
            result.bytes_read if case.transfer == "down" else result.requests * fx.BIG_BODY_BYTES
        )
        sample["mib_per_s"] = moved / result.duration_s / MIB
        sample["peak_rss_mib"] = status_kib(target.pids, "VmHWM") / 1024
    return sample


def idle_figures(
    ps: ProcessSet, start: Callable[[], Running], *, spawns: int, settle_s: float = 1.0
) -> dict[str, float]:
    """Median spawn-to-ready time over ``spawns`` fresh starts, and RSS after ``settle_s``."""
    ready: list[float] = []
    rss: list[float] = []
    for _ in range(spawns):
        began = time.monotonic()
        running = start()
        ready.append((time.monotonic() - began) * 1000)
        time.sleep(settle_s)
        rss.append(status_kib(running.pids, "VmRSS") / 1024)
        ps.stop(running.proc)
    return {
        "ready_ms": statistics.median(ready),
        "idle_rss_mib": statistics.median(rss),
        "spawns": spawns,
    }
