"""Per-request cost that a busy shared machine cannot blur: instructions and system calls.

    .venv/bin/python -m bench.cost [REVISION ...] [--case get] [--seconds 8]

Throughput on this machine swings by ±15% from minute to minute (other people's test runs),
which hides a 5% improvement. Two counts do not swing: the instructions the gateway process
executes per request (valgrind's callgrind, switched on only while wrk runs, so start-up is
not counted) and the system calls it makes per request (strace -c). Instructions move with
Python-level work (±2% run to run: batching differs); each loopback ``write`` also costs ~5-10
µs of kernel time that instruction counts do not see. Each REVISION (default ``WORKTREE``) is
exported as in ``bench.compare`` (``PLAIN``: the plain aiohttp proxy, for reference);
valgrind and strace are installed with apt if missing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import targets, tools, wrk
from bench.cases import CASES_BY_NAME, GATEWAY, Case
from bench.compare import WORKTREE, export, start
from bench.procs import ProcessSet

CONNECTIONS = 16


def _ensure(binary: str, package: str) -> None:
    if shutil.which(binary) is None and tools.apt_install([package]).returncode != 0:
        raise tools.ToolMissing(f"apt-get install {package} failed")


def _script(work: Path, case: Case) -> Path:
    body = None
    if case.body is not None:
        body = work / "body"
        body.write_text(case.body)
    script = work / "case.lua"
    script.write_text(wrk.render_lua(case.method, case.headers_for(GATEWAY), body))
    return script


def _callgrind(pid: int, switch: str) -> None:
    subprocess.run(["callgrind_control", "-i", switch, str(pid)], check=True, capture_output=True)


def instructions(
    code: Path, case: Case, seconds: int, work: Path, env: dict[str, str]
) -> tuple[int, float]:
    """Requests served and instructions per request, under callgrind."""
    out = work / f"{code.name}.callgrind"
    prefix = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    with ProcessSet() as ps:
        upstream = targets.start_upstream(ps, work)
        proc, url = start(ps, work, code, upstream.base_url, env, prefix=prefix, ready_s=180)
        script, target = _script(work, case), url + case.path
        wrk.run_wrk(target, script, connections=CONNECTIONS, duration_s=3)  # warm-up
        subprocess.run(
            ["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True
        )
        result = wrk.run_wrk(target, script, connections=CONNECTIONS, duration_s=seconds)
        subprocess.run(
            ["callgrind_control", "-i", "off", str(proc.pid)], check=True, capture_output=True
        )
        ps.stop(proc, timeout=120)
    totals = re.search(r"^totals: (\d+)", out.read_text(errors="replace"), re.MULTILINE)
    assert totals, f"no totals in {out}"
    return result.requests, int(totals.group(1)) / result.requests


def syscalls(
    code: Path, case: Case, seconds: int, work: Path, env: dict[str, str]
) -> tuple[int, dict[str, float]]:
    """Requests served and system calls per request by name, under strace -c."""
    with ProcessSet() as ps:
        upstream = targets.start_upstream(ps, work)
        proc, url = start(ps, work, code, upstream.base_url, env)
        script, target = _script(work, case), url + case.path
        wrk.run_wrk(target, script, connections=CONNECTIONS, duration_s=1)
        counts = work / f"{code.name}.strace"
        tracer = subprocess.Popen(
            ["strace", "-f", "-c", "-p", str(proc.pid), "-o", str(counts)],
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)
        result = wrk.run_wrk(target, script, connections=CONNECTIONS, duration_s=seconds)
        tracer.send_signal(signal.SIGINT)
        tracer.wait(30)
    per_request: dict[str, float] = {}
    for line in counts.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[3].isdigit() and fields[-1] not in ("total", "syscall"):
            per_request[fields[-1]] = int(fields[3]) / result.requests
    return result.requests, per_request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("revisions", nargs="*", default=[WORKTREE])
    parser.add_argument("--case", default="get", choices=sorted(CASES_BY_NAME))
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the gateway")
    args = parser.parse_args(argv)
    env = dict(item.split("=", 1) for item in args.env)
    _ensure("valgrind", "valgrind")
    _ensure("strace", "strace")
    case = CASES_BY_NAME[args.case]
    work = Path(tempfile.mkdtemp(prefix="kgw-cost-"))
    print(f"case {case.name}, {CONNECTIONS} connections, {args.env or 'default settings'}:")
    for number, revision in enumerate(args.revisions):
        code = export(revision, work / str(number))
        _, ir = instructions(code, case, args.seconds, work, env)
        _, calls = syscalls(code, case, args.seconds, work, env)
        shown = ", ".join(f"{name} {n:.2f}" for name, n in calls.items() if n >= 0.05)
        total = sum(calls.values())
        print(f"{revision:>14}: {ir:10,.0f} instructions   {total:5.2f} syscalls ({shown})")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
