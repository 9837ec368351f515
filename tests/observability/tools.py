"""Real tools for the observability tests: install when missing (loudly), run, stop by PID.

Debian's ``prometheus`` package brings ``prometheus`` and ``promtool``; ``chromium`` drives the
built-in dashboard; npm installs TypeScript and ``@grafana/schema`` from the committed lock
file. A missing tool is installed once per machine (a file lock keeps parallel pytest workers
from fighting over dpkg); if it still cannot be found, the test fails, it never skips.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bench.tools import apt_install, machine_lock

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = Path(__file__).with_name("grafana-schema")
_LOCK = Path("/tmp/kgw-observability-tools.lock")


def _apt_install(package: str) -> None:
    result = apt_install([package])
    if result.returncode != 0:
        pytest.fail(f"apt-get install {package} failed:\n{result.stderr[-2000:]}")


def require_binary(binary: str, apt_package: str) -> str:
    """The absolute path of ``binary``, installing ``apt_package`` first if it is missing."""
    found = shutil.which(binary)
    if found is None:
        with machine_lock(_LOCK):
            found = shutil.which(binary)
            if found is None:
                _apt_install(apt_package)
                found = shutil.which(binary)
    if found is None:
        pytest.fail(f"{binary} is still missing after apt-get install {apt_package}")
    return found


def require_grafana_schema() -> Path:
    """tests/observability/grafana-schema with its node_modules (npm ci from the lock file)."""
    npm = require_binary("npm", "npm")
    tsc = SCHEMA_DIR / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        with machine_lock(_LOCK):
            if not tsc.exists():
                result = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund"],
                    cwd=SCHEMA_DIR,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if result.returncode != 0:
                    pytest.fail(f"npm ci failed in {SCHEMA_DIR}:\n{result.stderr[-2000:]}")
    return SCHEMA_DIR


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM this one process (by its PID), then SIGKILL if it does not exit in time."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def wait_until(what: str, check: Any, *, attempts: int = 150, pause: float = 0.2) -> Any:
    """Poll ``check()`` until it returns something truthy; bounded, fails with ``what``."""
    for _ in range(attempts):
        with contextlib.suppress(OSError):
            result = check()
            if result:
                return result
        time.sleep(pause)
    pytest.fail(f"timed out waiting for {what}")


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Prometheus:
    """A real Prometheus server on 127.0.0.1 with its own config and temporary TSDB."""

    def __init__(self, binary: str, workdir: Path, config: dict[str, Any]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = workdir / "prometheus.yml"
        self.config_path.write_text(json.dumps(config))  # JSON is YAML
        self.log_path = workdir / "prometheus.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_until("Prometheus /-/ready", lambda: http_get(f"{self.url}/-/ready")[0] == 200)

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        status, body = http_get(f"{self.url}/api/v1/{path}?{query}")
        payload = json.loads(body)
        if status != 200 or payload.get("status") != "success":
            raise AssertionError(f"{path} {params} -> HTTP {status}: {payload}")
        return payload["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", data
        result: list[dict[str, Any]] = data["result"]
        return result

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()
