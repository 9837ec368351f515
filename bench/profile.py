"""Profile one proxy under load: where its CPU time goes, by layer, with py-spy.

    .venv/bin/python -m bench.profile [--target gateway] [--case get] [--seconds 10] [--native]

Starts the benchmark's nginx upstream (CPU 0) and the target (CPU 1, as in ``bench.run``),
drives it with wrk while ``py-spy record`` samples it, and prints the share of samples per
layer (aiohttp client side, server side, socket writes, GC, the gateway's own code, ...) and
the top functions by own time. The raw collapsed stacks are kept next to the summary, so a
flame graph can be drawn from them later (``--out``). py-spy is installed with pip if missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import fixtures as fx
from bench import targets, tools, wrk
from bench.cases import CASES_BY_NAME, GATEWAY, GATEWAY_NO_METRICS, PLAIN
from bench.procs import ProcessSet

# First matching rule wins; a sample's own time goes to the innermost frame that matches a
# layer. Patterns are substrings of py-spy's "function (file:line)" frame names.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gc", ("gc_collect", "collect_with_callback", "(gc)")),
    (
        "socket write",
        ("transport.write", "UVStream_write", "uv__write", "sendmsg", "writev", "__libc_send"),
    ),
    ("socket read", ("uv__read", "__libc_recv", "readv")),
    (
        "aiohttp client",
        (
            "aiohttp/client",
            "aiohttp/connector",
            "aiohttp/tracing",
            "aiohttp/cookiejar",
        ),
    ),
    ("gateway upstream client", ("gateway/http/upstream", "gateway/http/h1_")),
    (
        "aiohttp server",
        (
            "aiohttp/web_",
            "aiohttp/http_writer",
            "aiohttp/base_protocol",
            "aiohttp/http_parser",
            "aiohttp/helpers",
        ),
    ),
    ("aiohttp streams (body readers)", ("aiohttp/streams",)),
    ("metrics + access log", ("gateway/observability",)),
    ("gateway handler", ("gateway/",)),
    ("plain handler", ("bench/plain_proxy",)),
    ("event loop", ("uvloop", "asyncio", "epoll")),
)


def layer_of(frame: str) -> str | None:
    for layer, patterns in LAYERS:
        if any(pattern in frame for pattern in patterns):
            return layer
    return None


def summarize(collapsed: Path, top: int = 25) -> str:
    """Own-time shares per layer (innermost frame that matches a layer) and top functions."""
    own_layer: Counter[str] = Counter()
    own_function: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()  # the gateway's functions, callees included
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        own_function[frames[-1]] += count
        for name in {_function(f) for f in frames if "gateway/" in f}:
            inclusive[name] += count
        layer = next((lay for f in reversed(frames) if (lay := layer_of(f))), "other")
        own_layer[layer] += count
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "| layer (own time) | share |", "|---|---|"]
    lines += [f"| {name} | {100 * n / total:.1f}% |" for name, n in own_layer.most_common()]
    lines += ["", "| function (own time) | share |", "|---|---|"]
    lines += [
        f"| `{name[:110]}` | {100 * n / total:.1f}% |" for name, n in own_function.most_common(top)
    ]
    if inclusive:
        lines += ["", "| gateway function (with callees) | share |", "|---|---|"]
        lines += [f"| `{n}` | {100 * c / total:.1f}% |" for n, c in inclusive.most_common(top)]
    return "\n".join(lines)


def _function(frame: str) -> str:
    """``name (file:line)`` without the line, so a function's lines count once."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", default=GATEWAY, choices=(PLAIN, GATEWAY, GATEWAY_NO_METRICS))
    parser.add_argument("--case", default="get", choices=sorted(CASES_BY_NAME))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--native", action="store_true", help="sample C frames too (slower)")
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--out", type=Path, default=None, help="directory for the results")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the target")
    args = parser.parse_args(argv)
    tools.ensure_tools()
    py_spy = _py_spy()
    case = CASES_BY_NAME[args.case]
    workdir = Path(tempfile.mkdtemp(prefix="kgw-profile-"))
    out = args.out or workdir
    out.mkdir(parents=True, exist_ok=True)
    collapsed = out / f"{args.target}-{args.case}.collapsed"
    for key, _, value in (item.partition("=") for item in args.env):
        os.environ[key] = value
    try:
        with ProcessSet() as ps:
            upstream = targets.start_upstream(ps, workdir)
            if args.target == PLAIN:
                running = targets.start_plain(ps, workdir, upstream.base_url)
            else:
                running = targets.start_gateway(ps, workdir, upstream.base_url, args.target)
            body_file = None
            if case.body is not None:
                body_file = workdir / "body"
                body_file.write_text(case.body if case.body != "@big" else "x" * fx.BIG_BODY_BYTES)
            script = workdir / "case.lua"
            script.write_text(wrk.render_lua(case.method, case.headers_for(args.target), body_file))
            url = running.base_url + case.path
            wrk.run_wrk(
                url, script, connections=case.connections, duration_s=1, cpu=targets.LOAD_CPU
            )
            record = [py_spy, "record", "--pid", str(running.proc.pid), "--format", "raw"]
            record += ["--rate", str(args.rate), "--duration", str(args.seconds)]
            record += ["--output", str(collapsed), "--gil"]  # the loop thread, when it runs
            # Native unwinding needs the process paused per sample; Python-only does not.
            record.append("--native" if args.native else "--nonblocking")
            spy = subprocess.Popen(record, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.5)
            result = wrk.run_wrk(
                url,
                script,
                connections=case.connections,
                duration_s=args.seconds,
                cpu=targets.LOAD_CPU,
            )
            _, errors = spy.communicate(timeout=args.seconds + 60)
            if spy.returncode != 0:
                print(errors.decode(errors="replace"), file=sys.stderr)
    finally:
        if args.out is None:
            print(f"collapsed stacks in {collapsed}")
    summary = summarize(collapsed)
    header = (
        f"{args.target} / {args.case}: {result.requests_per_s:.0f} req/s under py-spy "
        f"(sampling slows it), p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms"
    )
    (out / f"{args.target}-{args.case}.md").write_text(header + "\n\n" + summary + "\n")
    print(header + "\n\n" + summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
