"""Drive wrk: a Lua script per case (static request, so wrk stays fast) and a parsable result.

The script's ``done()`` prints one line ``BENCH_RESULT {json}`` with the counts and latency
percentiles (microseconds), which ``parse_result`` turns into a ``WrkResult``. No per-response
Lua hook is defined: that would make wrk hand every response to Lua and slow the load generator.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.procs import pinned

MARKER = "BENCH_RESULT "

_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"p999_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
"""


def _lua_string(text: str) -> str:
    if not text.isascii():
        raise ValueError("wrk scripts here carry ASCII only")
    return json.dumps(text)  # an ASCII JSON string literal is a valid Lua string literal


def render_lua(method: str, headers: tuple[tuple[str, str], ...], body_file: Path | None) -> str:
    """The wrk script for one request shape; the body is read from a file at start."""
    lines = [f"wrk.method = {_lua_string(method)}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers]
    if body_file is not None:
        lines += [
            f"local body_file = assert(io.open({_lua_string(str(body_file))}, 'rb'))",
            "wrk.body = body_file:read('*a')",
            "body_file:close()",
        ]
    return "\n".join(lines) + "\n" + _DONE


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    bytes_read: int
    socket_errors: int
    status_errors: int  # responses that were not 2xx or 3xx
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float

    @property
    def errors(self) -> int:
        return self.socket_errors + self.status_errors

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "requests_per_s": self.requests_per_s, "errors": self.errors}


class WrkOutputError(ValueError):
    """wrk printed no BENCH_RESULT line (crashed, or the script has no done())."""


def parse_result(output: str) -> WrkResult:
    """The ``BENCH_RESULT`` line of a wrk run as a ``WrkResult``."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            raw = json.loads(line[len(MARKER) :])
            break
    else:
        raise WrkOutputError(f"no {MARKER.strip()} line in wrk output:\n{output[-2000:]}")
    return WrkResult(
        requests=raw["requests"],
        duration_s=raw["duration_us"] / 1e6,
        bytes_read=raw["bytes"],
        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        status_errors=raw["status"],
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        p999_ms=raw["p999_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
    )


def wrk_argv(
    url: str, script: Path, *, connections: int, duration_s: float, cpu: int | None
) -> list[str]:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration_s))}s"]
    argv += ["--timeout", "10s", "-s", str(script), url]
    return pinned(argv, cpu)


def run_wrk(
    url: str, script: Path, *, connections: int, duration_s: float, cpu: int | None = None
) -> WrkResult:
    argv = wrk_argv(url, script, connections=connections, duration_s=duration_s, cpu=cpu)
    completed = subprocess.run(
        argv, capture_output=True, text=True, timeout=duration_s + 60, check=False
    )
    if completed.returncode != 0:
        raise WrkOutputError(f"wrk exited {completed.returncode}: {completed.stderr[-2000:]}")
    return parse_result(completed.stdout)
