"""Soak: sustained concurrent load on the gateway; expects zero errors and flat RSS and fds.

    .venv/bin/python -m bench.soak [--duration 60] [--upstream nginx|emulator] [--connections 32]

Each worker repeats a cycle of pass-through and translated calls (v6 POST and GET of an entity,
a v1 DELETE that must come back 204, a v3 file-metadata POST without X-Kinvey-Content-Type,
a DELETE of that file), checking every status. The gateway's RSS and open file descriptors are
sampled every ``--interval`` seconds; growth is measured from the end of the warm-up to the
last sample. Exit status 1 on any error or growth at or above ``--max-growth-pct``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from bench import fixtures as fx
from bench import targets, tools
from bench.cases import GATEWAY
from bench.procs import ProcessSet, cpu_seconds, free_port, open_fds, status_kib, wait_ready
from bench.soak_report import Sample, soak_table, verdict

RESULTS = Path(__file__).resolve().parent / "results"
EMULATOR_MASTER_SECRET = "bench-master-secret"


class Load:
    """The client side: ``connections`` workers looping over the call cycle until a deadline."""

    def __init__(self, base_url: str, auth: str) -> None:
        self.base_url, self.auth = base_url, auth
        self.requests = 0
        self.errors: Counter[str] = Counter()

    async def _call(
        self,
        session: aiohttp.ClientSession,
        step: str,
        method: str,
        path: str,
        version: int,
        want: int,
        body: str | None = None,
    ) -> dict[str, Any] | None:
        headers = {"X-Kinvey-API-Version": str(version), "Authorization": self.auth}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with session.request(
                method, self.base_url + path, headers=headers, data=body
            ) as r:
                raw = await r.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.errors[f"{step}: {type(exc).__name__}"] += 1
            return None
        self.requests += 1
        if r.status != want or (want == 204 and raw):
            self.errors[f"{step}: {r.status}"] += 1
            return None
        parsed: dict[str, Any] = json.loads(raw) if raw else {}
        return parsed

    async def _cycle(self, session: aiohttp.ClientSession) -> None:
        books = fx.COLLECTION_PATH
        made = await self._call(session, "post", "POST", books, 6, 201, fx.POST_BODY_JSON)
        if made is not None:
            entity = f"{books}/{made['_id']}"
            await self._call(session, "get", "GET", entity, 6, 200)
            await self._call(session, "delete-v1", "DELETE", entity, 1, 204)
        blob = await self._call(
            session, "blob-v3", "POST", fx.BLOB_PATH, 3, 201, fx.BLOB_REQUEST_JSON
        )
        if blob is not None:
            await self._call(
                session, "blob-delete", "DELETE", f"{fx.BLOB_PATH}/{blob['_id']}", 6, 200
            )

    async def run(self, connections: int, deadline: float) -> None:
        timeout = aiohttp.ClientTimeout(total=10)
        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def worker() -> None:
                while time.monotonic() < deadline:
                    await self._cycle(session)

            await asyncio.gather(*(worker() for _ in range(connections)))


async def sample_loop(
    pid: int, load: Load, started: float, deadline: float, interval: float, out: list[Sample]
) -> None:
    while True:
        now = time.monotonic()
        out.append(
            Sample(
                elapsed_s=now - started,
                rss_kib=status_kib([pid], "VmRSS"),
                open_fds=open_fds(pid),
                requests=load.requests,
                errors=sum(load.errors.values()),
                cpu_s=cpu_seconds([pid]),
            )
        )
        if len(out) == 1:
            print(soak_table([]), flush=True)
        print(soak_table(out[-2:]).splitlines()[-1], flush=True)
        if now >= deadline:
            return
        await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))


async def soak(args: argparse.Namespace, gateway: targets.Running, auth: str) -> dict[str, Any]:
    load = Load(gateway.base_url, auth)
    samples: list[Sample] = []
    started = time.monotonic()
    deadline = started + args.duration
    await asyncio.wait_for(
        asyncio.gather(
            load.run(args.connections, deadline),
            sample_loop(gateway.proc.pid, load, started, deadline, args.interval, samples),
        ),
        timeout=args.duration + 60,
    )
    return {"samples": samples, "errors": dict(load.errors), "requests": load.requests}


def start_emulator(ps: ProcessSet, workdir: Path) -> targets.Running:
    port = free_port()
    argv = [*targets.gateway_command(), "emulator", "--listen", f"127.0.0.1:{port}"]
    argv += ["--app-key", fx.APP_KEY, "--master-secret", EMULATOR_MASTER_SECRET]
    proc = ps.spawn("emulator", argv, log_path=workdir / "emulator.log", cpu=targets.LOAD_CPU)
    running = targets.Running("emulator", f"http://127.0.0.1:{port}", proc)
    wait_ready(proc, running.base_url + "/")
    return running


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Soak the gateway under sustained load")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (600 = 10 min)")
    parser.add_argument("--upstream", choices=("nginx", "emulator"), default="nginx")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=None, help="default: 20%% of duration")
    parser.add_argument("--max-growth-pct", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = args.duration / 5
    if not 0 <= args.warmup < args.duration or args.interval <= 0 or args.connections < 1:
        parser.error("need 0 <= --warmup < --duration, --interval > 0, --connections >= 1")
    return args


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    missing = targets.gateway_missing_reason()
    if missing:
        print(f"cannot soak the gateway: {missing}", file=sys.stderr)
        return 2
    tools.ensure_tools()
    os.sched_setaffinity(0, {targets.LOAD_CPU})  # this process is the load generator
    workdir = Path(tempfile.mkdtemp(prefix="kgw-soak-"))
    try:
        with ProcessSet() as ps:
            if args.upstream == "nginx":
                upstream = targets.start_upstream(ps, workdir)
                auth = fx.SESSION_AUTH
            else:
                upstream = start_emulator(ps, workdir)
                secret = f"{fx.APP_KEY}:{EMULATOR_MASTER_SECRET}".encode()
                auth = "Basic " + base64.b64encode(secret).decode()
            gateway = targets.start_gateway(ps, workdir, upstream.base_url, GATEWAY)
            print(f"soaking {gateway.base_url} for {args.duration:.0f} s, upstream {args.upstream}")
            outcome = asyncio.run(soak(args, gateway, auth))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    samples: list[Sample] = outcome["samples"]
    result = verdict(samples, args.warmup, args.max_growth_pct, outcome["errors"])
    print("\n" + soak_table(samples) + "\n\n" + result.text)
    args.out.mkdir(parents=True, exist_ok=True)
    raw = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "samples": [s._asdict() for s in samples],
        "errors": outcome["errors"],
        "requests": outcome["requests"],
        "verdict": result._asdict(),
        "machine": tools.machine_info(),
    }
    (args.out / "soak-latest.json").write_text(json.dumps(raw, indent=2) + "\n")
    return 0 if result.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
