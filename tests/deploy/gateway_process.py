"""Run a real ``kinvey-gateway serve`` process (and small upstreams) for the deployment tests.

The gateway is started as ``python -m gateway`` from the checkout, so the tests exercise this
tree whether or not the package is installed. Every process is stopped by PID, and its output
goes to a file that assertion messages quote.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from deploy_support import REPO, clean_environ

STARTUP_DEADLINE_SECONDS = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m gateway ARGS`` to completion (bounded) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=REPO,
        env=env if env is not None else clean_environ(),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


class GatewayProcess:
    """``kinvey-gateway serve --config FILE`` with 127.0.0.1 listeners on free ports."""

    def __init__(self, workdir: Path, config: dict[str, Any], *extra_args: str) -> None:
        self.proxy_port = free_port()
        self.admin_port = free_port()
        config = {
            **config,
            "listen": f"127.0.0.1:{self.proxy_port}",
            "admin_listen": f"127.0.0.1:{self.admin_port}",
        }
        self.config_path = workdir / "gateway-under-test.yaml"
        self.config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.log_path = workdir / "gateway-under-test.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway",
                "serve",
                "--config",
                str(self.config_path),
                *extra_args,
            ],
            cwd=REPO,
            env=clean_environ(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def signal(self, signum: int = signal.SIGTERM) -> None:
        os.kill(self.process.pid, signum)

    async def wait_ready(self, session: aiohttp.ClientSession) -> None:
        """Poll /readyz until 200; fail with the gateway's log if it exits or never gets ready."""
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gateway exited {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{self.admin_url}/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise AssertionError(f"gateway not ready after {STARTUP_DEADLINE_SECONDS}s:\n{self.log()}")

    async def wait_exit(self, within_seconds: float) -> int | None:
        """The exit code, or None if the process is still running after the bound."""
        deadline = time.monotonic() + within_seconds
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                return code
            await asyncio.sleep(0.05)
        return self.process.poll()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


@contextlib.contextmanager
def gateway_process(
    workdir: Path, config: dict[str, Any], *extra_args: str
) -> Iterator[GatewayProcess]:
    gateway = GatewayProcess(workdir, config, *extra_args)
    try:
        yield gateway
    finally:
        gateway.stop()
