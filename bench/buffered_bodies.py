"""Memory and event-loop stall while the gateway buffers large or hostile bodies (issue 12).

    python -m bench.buffered_bodies [--rounds 3]

Starts the emulator (v4 only) and a gateway pinned to 4, then for each scenario measures the
gateway's peak RSS (VmHWM) and the latency of small requests sent every 20 ms meanwhile:

- ``inserts``: four concurrent 9 MB v5 multi-inserts (100 entities of 90 kB each), which the
  gateway parses and fans out as 100 v4 POSTs each;
- ``double-gzip``: 50 concurrent ~400-byte bodies gzipped twice (64 MiB inflated) from v5
  clients on the same translated route, each refused with 413 after at most
  ``limits.max_buffered_body_bytes`` decoded.

The small request is refused by the gateway itself (an unknown API version), so its latency
is the gateway's event loop and nothing else. Figures go to stdout; README's Reliability table
quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

from bench.procs import ProcessSet, free_port, reset_peak_rss, status_kib, wait_ready
from bench.targets import REPO, gateway_command

APP_KEY, MASTER = "kid_bench", "bench-master"
AUTH = {"Authorization": aiohttp.encode_basic_auth(APP_KEY, MASTER)}


def _insert_body() -> bytes:
    entity = {"title": "t", "blob": "x" * 90_000}
    return json.dumps([dict(entity, n=n) for n in range(100)]).encode()


def _bomb() -> bytes:
    return gzip.compress(gzip.compress(b"[" + b" " * (64 << 20) + b"]"))


async def _probe(session: aiohttp.ClientSession, url: str, stop: asyncio.Event) -> list[float]:
    latencies: list[float] = []
    while not stop.is_set():
        started = time.perf_counter()
        async with session.get(url, headers={"X-Kinvey-API-Version": "99"}) as response:
            await response.read()
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)
    return latencies


async def _scenario(base: str, name: str, pid: int) -> dict[str, object]:
    reset_peak_rss([pid])
    before = status_kib([pid], "VmRSS")
    path = f"{base}/appdata/{APP_KEY}/things"
    if name == "inserts":
        body, count, headers = _insert_body(), 4, {"X-Kinvey-API-Version": "5"}
    else:
        body, count = _bomb(), 50
        headers = {"X-Kinvey-API-Version": "5", "Content-Encoding": "gzip, gzip"}
    headers["Content-Type"] = "application/json"
    stop = asyncio.Event()
    async with aiohttp.ClientSession(headers=AUTH) as session:
        probe = asyncio.create_task(_probe(session, f"{base}/appdata/{APP_KEY}/p", stop))
        await asyncio.sleep(0.2)
        started = time.perf_counter()

        async def one() -> int:
            async with session.post(path, data=body, headers=headers) as response:
                await response.read()
                return response.status

        statuses = await asyncio.gather(*(one() for _ in range(count)))
        elapsed = time.perf_counter() - started
        stop.set()
        latencies = await probe
    return {
        "statuses": dict(Counter(statuses)),
        "elapsed_s": round(elapsed, 2),
        "probe_max_ms": round(max(latencies) * 1000, 1),
        "probe_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "rss_before_mib": round(before / 1024, 1),
        "peak_rss_mib": round(status_kib([pid], "VmHWM") / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kgw-buffered-"))
    upstream_port, port, admin = free_port(), free_port(), free_port()
    with ProcessSet() as ps:
        versions = ["--min-api-version", "4", "--max-api-version", "4"]
        credentials = ["--app-key", APP_KEY, "--app-secret", "s", "--master-secret", MASTER]
        emulator = ps.spawn(
            "emulator",
            [
                *gateway_command(),
                *("emulator", "--listen", f"127.0.0.1:{upstream_port}"),
                *versions,
                *credentials,
            ],
            log_path=workdir / "emulator.log",
            cwd=REPO,
        )
        wait_ready(emulator, f"http://127.0.0.1:{upstream_port}/appdata/{APP_KEY}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KINVEY_GATEWAY_")}
        env["KINVEY_GATEWAY_LOGGING_ACCESS_LOG"] = "false"
        # A fan-out holds an upstream connection per insert until its exchange ends: 4 x 100.
        env["KINVEY_GATEWAY_UPSTREAM_POOL_SIZE"] = "512"
        gateway = ps.spawn(
            "gateway",
            [
                *gateway_command(),
                "serve",
                *("--upstream", f"http://127.0.0.1:{upstream_port}", "--upstream-api-version", "4"),
                *("--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}"),
            ],
            log_path=workdir / "gateway.log",
            env=env,
            cwd=REPO,
        )
        wait_ready(gateway, f"http://127.0.0.1:{admin}/readyz", want=200)
        for scenario in ("inserts", "double-gzip"):
            for round_ in range(1, args.rounds + 1):
                figures = asyncio.run(_scenario(f"http://127.0.0.1:{port}", scenario, gateway.pid))
                print(json.dumps({"scenario": scenario, "round": round_, **figures}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
