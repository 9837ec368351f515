"""A real stack for the end-to-end observability test, every part its own process:

the built-in emulator (``kinvey-gateway emulator``), the gateway (``kinvey-gateway serve``, pinned
to API v6, access log on) and Debian's Prometheus scraping the gateway's admin listener every
second with deploy/prometheus/rules.yaml loaded. ``generate_load`` sends a bounded mix of
requests from every client API version and counts exactly what it sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from gateway.emulator.config import NEWEST_API_VERSION
from tests.observability.tools import (
    REPO,
    Prometheus,
    free_port,
    http_get,
    require_binary,
    stop_process,
    wait_until,
)

APP_KEY = "kid_obs"
APP_SECRET = "obs-app-secret-4f1c"
MASTER_SECRET = "obs-master-secret-9a7e"
USER_PASSWORD = "obs-user-password-77d2"
QUERY_SECRET = "obs-query-secret-hunter2"  # sent in query strings; must never be logged
NAMESPACE, POD = "kgw-test", "gateway-0"
# Every version the emulator behind the gateway serves (Kinvey's published ones).
VERSIONS = range(NEWEST_API_VERSION + 1)


@dataclass
class Load:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_version: Counter[str] = field(default_factory=Counter)

    async def send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        version: str | None,
        auth: str | None = None,
        body: object = None,
        release: str | None = None,
    ) -> tuple[int, object]:
        headers = {} if version is None else {"X-Kinvey-API-Version": version}
        if release is not None:
            headers["X-Kinvey-Client-App-Version"] = release
        if auth is not None:
            headers["Authorization"] = auth
        async with session.request(method, url, headers=headers, json=body) as reply:
            raw = await reply.read()
        self.sent += 1
        self.statuses[reply.status] += 1
        self.by_version[version if version is not None and version.isdigit() else "invalid"] += 1
        try:
            return reply.status, json.loads(raw) if raw else None
        except ValueError:
            return reply.status, None


def basic(login: str, password: str) -> str:
    return aiohttp.encode_basic_auth(login, password)


class Process:
    def __init__(self, name: str, args: list[str], workdir: Path, env: dict[str, str]) -> None:
        self.stdout_path = workdir / f"{name}.out"
        self.stderr_path = workdir / f"{name}.err"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway", *args], cwd=REPO, stdout=out, stderr=err,
                env={**os.environ, **env},
            )  # fmt: skip

    def stop(self) -> None:
        stop_process(self.process)

    def output(self) -> str:
        return self.stdout_path.read_text() + self.stderr_path.read_text()


class LiveStack:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        emulator_port, proxy_port, admin_port = free_port(), free_port(), free_port()
        candidate_port = free_port()
        self.emulator_url = f"http://127.0.0.1:{emulator_port}"
        candidate_url = f"http://127.0.0.1:{candidate_port}"
        self.proxy_url = f"http://127.0.0.1:{proxy_port}"
        self.admin_url = f"http://127.0.0.1:{admin_port}"
        self.processes: list[Process] = []
        self.prometheus: Prometheus | None = None
        self.emulator = self._start(
            "emulator",
            ["emulator", "--listen", f"127.0.0.1:{emulator_port}", "--app-key", APP_KEY,
             "--app-secret", APP_SECRET, "--master-secret", MASTER_SECRET],
            {},
        )  # fmt: skip
        # A second, empty instance as the shadow candidate: reads of what the traffic creates
        # differ there (404s, other counts), so the shadow panels and alert get data.
        self.candidate = self._start(
            "candidate",
            ["emulator", "--listen", f"127.0.0.1:{candidate_port}", "--app-key", APP_KEY,
             "--app-secret", APP_SECRET, "--master-secret", MASTER_SECRET],
            {},
        )  # fmt: skip
        wait_until("the emulator", lambda: http_get(f"{self.emulator_url}/appdata/")[0] < 500)
        wait_until("the candidate", lambda: http_get(f"{candidate_url}/appdata/")[0] < 500)
        config = workdir / "gateway.yaml"
        config.write_text(json.dumps({
            "listen": f"127.0.0.1:{proxy_port}",
            "admin_listen": f"127.0.0.1:{admin_port}",
            "upstream": {"url": self.emulator_url, "api_version": 6,
                         "connect_timeout_seconds": 2, "read_timeout_seconds": 10},
            "logging": {"level": "info", "format": "json", "access_log": True},
            "metrics": {"enabled": True},
            "shutdown": {"drain_seconds": 0.05, "timeout_seconds": 2},
            # report-only retirement: the "would be refused" panel gets data, nobody is refused
            "apps": {APP_KEY: {"min_client_app_version": "2.0", "report_only": True}},
            "shadow": {"candidate_api_version": 5, "upstream_url": candidate_url,
                       "sample_ratio": 1.0, "max_calls_per_second": 1000},
        }))  # fmt: skip
        self.gateway = self._start(
            "gateway",
            ["serve", "--config", str(config)],
            {f"KINVEY_GATEWAY_APP_SECRET_{APP_KEY}": APP_SECRET,
             "KINVEY_GATEWAY_URL_SIGNING_SECRET": "obs-url-signing-secret"},
        )  # fmt: skip
        wait_until("the gateway /readyz", lambda: http_get(f"{self.admin_url}/readyz")[0] == 200)

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> Process:
        process = Process(name, args, self.workdir, env)
        self.processes.append(process)
        return process

    def start_prometheus(self, rules: Path) -> Prometheus:
        binary = require_binary("prometheus", "prometheus")
        target = self.admin_url.removeprefix("http://")
        self.prometheus = Prometheus(binary, self.workdir, {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules)],
            "scrape_configs": [{
                "job_name": "kinvey-gateway",
                "static_configs": [{"targets": [target],
                                    "labels": {"namespace": NAMESPACE, "pod": POD}}],
            }],
        })  # fmt: skip
        return self.prometheus

    def stop(self) -> None:
        if self.prometheus is not None:
            self.prometheus.stop()
        for process in reversed(self.processes):
            process.stop()


async def healthy_traffic(base: str, load: Load, rounds: int) -> None:
    """Every client version through the main routes, spread over ``rounds`` seconds."""
    master = basic(APP_KEY, MASTER_SECRET)
    app = basic(APP_KEY, APP_SECRET)
    things = f"{base}/appdata/{APP_KEY}/obs_things"
    async with aiohttp.ClientSession() as session:
        username = "obs-user"
        await load.send(session, "POST", f"{base}/user/{APP_KEY}", "5", app,
                        {"username": username, "password": USER_PASSWORD})  # fmt: skip
        user = basic(username, USER_PASSWORD)
        for round_number in range(rounds):
            for version in map(str, VERSIONS):
                release = "1.9.0" if version in {"0", "3"} else "2.4.1"  # app releases
                await load.send(session, "GET", f"{base}/appdata/{APP_KEY}", version, app,
                                release=release)  # fmt: skip
                status, created = await load.send(
                    session, "POST", things, version, master, {"round": round_number}
                )
                leaky = f"{things}?query=%7B%7D&password={QUERY_SECRET}"
                await load.send(session, "GET", leaky, version, master)
                await load.send(session, "GET", f"{things}/_count", version, master)
                if status == 201 and isinstance(created, dict) and "_id" in created:
                    await load.send(
                        session, "DELETE", f"{things}/{created['_id']}", version, master
                    )
                await load.send(session, "GET", f"{base}/user/{APP_KEY}/_me", version, user)
            await load.send(session, "GET", f"{base}/appdata/{APP_KEY}", "banana", app)
            await load.send(session, "POST", f"{base}/user/{APP_KEY}/login", "0", app,
                            {"username": username, "password": USER_PASSWORD})  # fmt: skip
            await asyncio.sleep(1)


async def failing_traffic(base: str, load: Load, rounds: int, per_round: int) -> None:
    """Requests while the upstream is down: the gateway must answer 502 itself."""
    master = basic(APP_KEY, MASTER_SECRET)
    async with aiohttp.ClientSession() as session:
        for _ in range(rounds):
            for i in range(per_round):
                version = str(VERSIONS[i % len(VERSIONS)])
                await load.send(session, "GET", f"{base}/appdata/{APP_KEY}/obs_things", version,
                                master)  # fmt: skip
            await asyncio.sleep(1)
