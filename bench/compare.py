"""Before/after: two versions of the gateway, same machine, same minute, interleaved runs.

    .venv/bin/python -m bench.compare HEAD~1 HEAD [--case get] [--rounds 8] [--duration 3]

Each revision's ``gateway/`` is exported with ``git archive`` (``WORKTREE`` = the files as they
are now) into a temp dir and run from there (PYTHONPATH), both pinned to the proxy CPU with the
benchmark's nginx upstream and wrk on the other CPU, as in ``bench.run``. Runs alternate
A B B A A B ..., so drifting load on a shared machine hits both alike. Prints the median
requests/s and CPU µs per request of each, and B relative to A.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import targets, tools, wrk
from bench.cases import CASES_BY_NAME, GATEWAY
from bench.procs import Proc, ProcessSet, cpu_seconds, free_port, wait_ready

WORKTREE = "WORKTREE"
PLAIN = "PLAIN"  # not the gateway: the plain aiohttp proxy baseline (bench/plain_proxy.py)


def export(revision: str, into: Path) -> Path:
    """``gateway/`` at ``revision`` (or the working tree) under ``into``; returns the root."""
    root = into / revision.replace("/", "_").replace("~", "-")
    root.mkdir(parents=True)
    if revision == PLAIN:
        return root
    if revision == WORKTREE:
        subprocess.run(["cp", "-r", str(targets.REPO / "gateway"), str(root)], check=True)
        return root
    archive = subprocess.run(
        ["git", "-C", str(targets.REPO), "archive", revision, "gateway"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    return root


def start(
    ps: ProcessSet,
    work: Path,
    code: Path,
    upstream: str,
    env_extra: dict[str, str],
    *,
    prefix: Sequence[str] = (),
    ready_s: float = 30.0,
) -> tuple[Proc, str]:
    """The gateway from ``code`` on the proxy CPU (``prefix``: e.g. valgrind and its flags)."""
    port, admin = free_port(), free_port()
    if code.name == PLAIN:
        argv = [*prefix, sys.executable, "-m", "bench.plain_proxy", "--upstream", upstream]
        argv += ["--listen", f"127.0.0.1:{port}", "--translate-delete"]
        proc = ps.spawn(PLAIN, argv, log_path=work / "plain.log", cpu=targets.PROXY_CPU)
        wait_ready(proc, f"http://127.0.0.1:{port}/", timeout=ready_s)
        return proc, f"http://127.0.0.1:{port}"
    argv = [*prefix, sys.executable, "-m", "gateway", "serve", "--upstream", upstream]
    argv += ["--upstream-api-version", "6", "--listen", f"127.0.0.1:{port}"]
    argv += ["--admin-listen", f"127.0.0.1:{admin}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINVEY_GATEWAY_")}
    env.update(env_extra, PYTHONPATH=str(code))
    log = work / f"{code.name}.log"
    proc = ps.spawn(code.name, argv, log_path=log, cpu=targets.PROXY_CPU, env=env, cwd=code)
    wait_ready(proc, f"http://127.0.0.1:{admin}/readyz", want=200, timeout=ready_s)
    return proc, f"http://127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("a", help="git revision (or WORKTREE, or PLAIN)")
    parser.add_argument("b", help="git revision (or WORKTREE, or PLAIN)")
    parser.add_argument("--case", default="get", choices=sorted(CASES_BY_NAME))
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for both")
    args = parser.parse_args(argv)
    tools.ensure_tools()
    case = CASES_BY_NAME[args.case]
    env_extra = dict(item.split("=", 1) for item in args.env)
    work = Path(tempfile.mkdtemp(prefix="kgw-compare-"))
    codes = [export(args.a, work / "a"), export(args.b, work / "b")]
    script = work / "case.lua"
    body = None
    if case.body is not None:
        body = work / "body"
        body.write_text(case.body)
    script.write_text(wrk.render_lua(case.method, case.headers_for(GATEWAY), body))
    results: dict[int, list[tuple[float, float]]] = {0: [], 1: []}
    with ProcessSet() as ps:
        upstream = targets.start_upstream(ps, work)
        running = [start(ps, work, code, upstream.base_url, env_extra) for code in codes]
        for _, url in running:  # warm-up
            wrk.run_wrk(url + case.path, script, connections=case.connections, duration_s=1)
        for round_no in range(args.rounds):
            order = (0, 1) if round_no % 2 == 0 else (1, 0)
            for which in order:
                proc, url = running[which]
                before = cpu_seconds([proc.pid])
                result = wrk.run_wrk(
                    url + case.path,
                    script,
                    connections=case.connections,
                    duration_s=args.duration,
                    cpu=targets.LOAD_CPU,
                )
                used = cpu_seconds([proc.pid]) - before
                results[which].append((result.requests_per_s, used / result.requests * 1e6))
    # On a shared machine others only ever add time: the best round is the least disturbed.
    rps = [statistics.median(r for r, _ in results[i]) for i in (0, 1)]
    best = [max(r for r, _ in results[i]) for i in (0, 1)]
    cpu = [statistics.median(c for _, c in results[i]) for i in (0, 1)]
    least = [min(c for _, c in results[i]) for i in (0, 1)]
    print(f"case {case.name}, {args.rounds} interleaved rounds of {args.duration} s")
    print("      revision    req/s median (best)    CPU µs/req median (least)")
    for i, name in enumerate((args.a, args.b)):
        figures = f"{rps[i]:8.0f} ({best[i]:6.0f})    {cpu[i]:6.1f} ({least[i]:6.1f})"
        print(f"{'AB'[i]} {name:>12}: {figures}")
    print(
        f"B/A: req/s {rps[1] / rps[0]:.2f}x median, {best[1] / best[0]:.2f}x best; "
        f"CPU per request {cpu[1] / cpu[0]:.2f}x median, {least[1] / least[0]:.2f}x least"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
