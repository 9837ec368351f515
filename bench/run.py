"""Benchmark the gateway against a plain aiohttp proxy and nginx, in one command.

    .venv/bin/python -m bench.run [--duration 3] [--rounds 3] [--cases get,post-1k] [--targets ...]

Installs nginx-light and wrk if missing, starts everything on 127.0.0.1 (free ports, a temp
dir), runs wrk in interleaved rounds (targets A B C, then C B A, ...), prints a Markdown table
of medians and writes bench/results/latest.{json,md}. Every process started is stopped by PID,
also on Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import tempfile
import time
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from bench import checks, procs, report, targets, tools, wrk
from bench import fixtures as fx
from bench.cases import ALL_TARGETS, CASES_BY_NAME, GATEWAY, GATEWAYS, NGINX, PLAIN, Case
from bench.measure import idle_figures, timed_run
from bench.procs import ProcessFailed, ProcessSet, status_kib

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark gateway vs plain aiohttp vs nginx")
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run (3)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--cases", default=",".join(CASES_BY_NAME), help="comma list")
    parser.add_argument("--targets", default=",".join(ALL_TARGETS), help="comma list")
    parser.add_argument("--spawns", type=int, default=3, help="fresh starts for startup/RSS")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument(
        "--nice", type=int, default=-10, help="niceness of started processes (-10; 0 = off)"
    )
    parser.add_argument("--keep-workdir", action="store_true", help="keep configs and logs")
    parser.add_argument(
        "--shadow-budget",
        type=float,
        default=None,
        help="shadow.max_calls_per_second of the gateway-shadow targets (default: the setting's)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.cases.split(",")) - set(CASES_BY_NAME)
    unknown |= set(args.targets.split(",")) - set(ALL_TARGETS)
    if unknown:
        parser.error(f"unknown case or target: {sorted(unknown)}")
    if args.duration < 1 or args.rounds < 1 or args.spawns < 1:
        parser.error("--duration, --rounds and --spawns must be at least 1")
    return args


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def write_scripts(
    workdir: Path, cases: list[Case], names: list[str]
) -> dict[tuple[str, str], Path]:
    """One wrk Lua script per (case, target); bodies live in files next to them."""
    scripts = {}
    for case in cases:
        body_file = None
        if case.body == "@big":
            body_file = workdir / "upload.bin"
        elif case.body is not None:
            body_file = workdir / f"{case.name}.body"
            body_file.write_text(case.body)
        for name in names:
            script = workdir / f"{case.name}.{name}.lua"
            script.write_text(wrk.render_lua(case.method, case.headers_for(name), body_file))
            scripts[case.name, name] = script
    return scripts


class Bench:
    """One benchmark run: its processes, its temp dir and what it found."""

    def __init__(self, ps: ProcessSet, workdir: Path, args: argparse.Namespace) -> None:
        self.ps, self.workdir, self.args = ps, workdir, args
        self.cases = [CASES_BY_NAME[n] for n in args.cases.split(",")]
        self.wanted = [t for t in ALL_TARGETS if t in args.targets.split(",")]
        self.notes: list[str] = []
        self.startup: dict[str, dict[str, float]] = {}
        self.answers: dict[str, str] = {}
        self.samples: list[dict[str, Any]] = []
        self.running: dict[str, targets.Running] = {}

    def start(self) -> None:
        upstream = targets.start_upstream(self.ps, self.workdir)
        url, port = upstream.base_url, int(upstream.base_url.rsplit(":", 1)[1])
        gateway_gone = targets.gateway_missing_reason()
        if gateway_gone:
            self.note(f"gateway targets skipped: {gateway_gone}")
            self.wanted = [t for t in self.wanted if t not in GATEWAYS]
        starters = {
            PLAIN: partial(targets.start_plain, self.ps, self.workdir, url),
            GATEWAY: partial(targets.start_gateway, self.ps, self.workdir, url, GATEWAY),
        }
        # Startup time and idle RSS first, while the proxy CPU is otherwise idle.
        for name, start in starters.items():
            if name in self.wanted:
                print(f"measuring startup of {name} ...", flush=True)
                try:
                    self.startup[name] = idle_figures(self.ps, start, spawns=self.args.spawns)
                except ProcessFailed as exc:
                    self._drop(name, exc)
        for name in list(self.wanted):
            try:
                if name == NGINX:
                    self.running[name] = targets.start_nginx_proxy(self.ps, self.workdir, port)
                elif name == PLAIN:
                    self.running[name] = targets.start_plain(self.ps, self.workdir, url)
                else:
                    self.running[name] = targets.start_gateway(
                        self.ps, self.workdir, url, name, shadow_budget=self.args.shadow_budget
                    )
            except ProcessFailed as exc:
                self._drop(name, exc)

    def _drop(self, name: str, exc: ProcessFailed) -> None:
        """A gateway that does not start is reported and skipped; the baselines must start."""
        if name not in GATEWAYS:
            raise exc
        self.note(f"{name} skipped, it did not start: {str(exc).splitlines()[0]}")
        print(exc, flush=True)
        self.wanted = [t for t in self.wanted if t != name]

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"NOTE: {text}", flush=True)

    def check_answers(self) -> None:
        big_body = (self.workdir / "upload.bin").read_bytes()
        for case in self.cases:
            for name in self.wanted:
                if name in case.targets:
                    base_url = self.running[name].base_url
                    verdict = checks.check_target(base_url, case, name, big_body)
                    self.answers[f"{case.name}/{name}"] = verdict
                    if verdict != "ok":
                        self.note(f"wrong answer from {name} on {case.name}: {verdict}")

    def run_rounds(self) -> None:
        scripts = write_scripts(self.workdir, self.cases, self.wanted)
        first = self.cases[0]
        for name in self.wanted:  # warm-up: connection pools, caches, lazy imports
            timed_run(
                self.running[name], first, scripts[first.name, name], duration_s=1, round_no=0
            )
        for round_no in range(1, self.args.rounds + 1):
            order = self.wanted if round_no % 2 else self.wanted[::-1]
            for case in self.cases:
                for name in (n for n in order if n in case.targets):
                    script = scripts[case.name, name]
                    sample = timed_run(
                        self.running[name],
                        case,
                        script,
                        duration_s=self.args.duration,
                        round_no=round_no,
                    )
                    self.samples.append(sample)
                    print(
                        f"round {round_no}/{self.args.rounds} {case.name:13} {name:18}"
                        f"{sample['requests_per_s']:9.0f} req/s  errors {sample['errors']}"
                        f"  other load on CPU {targets.PROXY_CPU}: {sample['foreign_cpu_pct']}%",
                        flush=True,
                    )
        for name, target in self.running.items():
            target.refresh_pids()
            rss = status_kib(target.pids, "VmRSS") / 1024
            self.notes.append(f"{name} RSS after all rounds: {rss:.1f} MiB")


def render(bench: Bench, summaries: list[report.Summary], meta: dict[str, Any]) -> str:
    machine = meta["machine"]
    lines = [
        f"Machine: {machine['cpu']}, {machine['cpus']} CPUs, {machine['memory_gib']} GiB, "
        f"{machine['os']}, kernel {machine['kernel']}; Python {machine['python']}, "
        f"aiohttp {machine['aiohttp']}, uvloop {machine['uvloop']}, {machine['nginx']}, "
        f"{machine['wrk']}. Commit {meta['commit']}, {meta['date']}.",
        f"wrk -t1 on CPU 0 with the upstream; proxy on CPU 1; {bench.args.rounds} interleaved "
        f"rounds of {bench.args.duration} s (nice {procs.PRIORITY['nice']}); medians "
        "(errors: sum over rounds).",
        "",
        report.results_table(summaries, bench.cases),
        "",
    ]
    if bench.startup:
        lines += [report.startup_table(bench.startup), ""]
    lines += ["Cases:", report.case_legend(bench.cases), ""]
    if bench.samples:
        lines += [report.contention_line(bench.samples, targets.PROXY_CPU), ""]
    if bench.notes:
        lines += ["Notes:", *(f"- {n}" for n in bench.notes), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)
    began = time.monotonic()
    tools.ensure_tools()
    procs.PRIORITY["nice"] = args.nice if os.geteuid() == 0 or args.nice >= 0 else 0
    workdir = Path(tempfile.mkdtemp(prefix="kgw-bench-"))
    (workdir / "upload.bin").write_bytes(bytes(range(256)) * (fx.BIG_BODY_BYTES // 256))
    try:
        with ProcessSet() as ps:
            bench = Bench(ps, workdir, args)
            bench.start()
            bench.check_answers()
            bench.run_rounds()
    finally:
        if args.keep_workdir:
            print(f"configs and logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    summaries = report.summarize(bench.samples)
    meta = {
        "machine": tools.machine_info(),
        "commit": tools.git_commit(targets.REPO),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "args": {k: str(v) for k, v in vars(args).items()},
        "elapsed_s": round(time.monotonic() - began, 1),
    }
    table = render(bench, summaries, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    raw = {
        "meta": meta,
        "summaries": [s.to_json() for s in summaries],
        "samples": bench.samples,
        "startup": bench.startup,
        "answers": bench.answers,
        "notes": bench.notes,
    }
    (args.out / "latest.json").write_text(json.dumps(raw, indent=2) + "\n")
    (args.out / "latest.md").write_text(table)
    print("\n" + table)
    print(f"took {meta['elapsed_s']} s; raw results in {args.out / 'latest.json'}")
    wrong = any(v != "ok" for v in bench.answers.values())
    return 1 if wrong or any(s.errors for s in summaries) else 0


if __name__ == "__main__":
    raise SystemExit(main())
