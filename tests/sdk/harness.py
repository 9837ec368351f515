"""Run the real SDK flavours: npm installs, emulator/gateway processes, the shared scenario.

Everything here is real: ``npm ci`` from the committed lock files, ``python -m gateway emulator``
and ``python -m gateway serve`` as child processes on free 127.0.0.1 ports (always stopped by
PID), and ``node scenario.js <flavour>`` whose one-JSON-line-per-step output is parsed back.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.observability.tools import require_binary
from tests.support.processes import free_port, stop_process, wait_http

SDK_DIR = Path(__file__).resolve().parent
FLAVOURS = ("v3", "v4", "v6")
APP_KEY = "kid_sdk_flavours"
APP_SECRET = "sdk-app-secret"
MASTER_SECRET = "sdk-master-secret"
# Bounds, not expectations: a scenario takes a few seconds; these only stop a hung run.
SCENARIO_TIMEOUT_S = 300
NPM_TIMEOUT_S = 600
START_TIMEOUT_S = 30
INSTALL_STAMP = ".kgw-installed-lock.sha256"


def require_node_and_npm() -> tuple[str, str]:
    """node (>= 18) and npm, installed from Debian's packages when missing (fails loudly if
    that is impossible: no root or no apt)."""
    return require_binary("node", "nodejs"), require_binary("npm", "npm")


def _lock_digest(flavour_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((flavour_dir / name).read_bytes())
    return digest.hexdigest()


@contextlib.contextmanager
def _install_lock(flavour_dir: Path) -> Iterator[None]:
    # pytest-xdist workers share the folder: one npm ci at a time per flavour.
    key = hashlib.sha256(str(flavour_dir).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"kgw-npm-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_installed(flavour: str, npm: str) -> None:
    """``npm ci`` the flavour unless node_modules matches its lock file already."""
    flavour_dir = SDK_DIR / flavour
    stamp = flavour_dir / "node_modules" / INSTALL_STAMP
    with _install_lock(flavour_dir):
        wanted = _lock_digest(flavour_dir)
        if stamp.is_file() and stamp.read_text().strip() == wanted:
            return
        result = subprocess.run(
            [npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"],
            cwd=flavour_dir,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"npm ci failed in {flavour_dir} (exit {result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        stamp.write_text(wanted + "\n")


@dataclass
class Service:
    """A child process serving HTTP on ``url``; its output goes to ``log_path``."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, chars: int = 6000) -> str:
        text = self._settled_log()
        return f"--- {self.name} log (last {chars} chars) ---\n{text[-chars:]}"

    def _settled_log(self) -> str:
        # The gateway writes its access log from a background thread every ~0.2 s: for a failure
        # report, wait (at most 3 s) until the file stops growing so the last requests show.
        text, deadline = "", time.monotonic() + 3
        while self.log_path.exists():
            time.sleep(0.3)
            latest = self.log_path.read_text(errors="replace")
            if latest == text or time.monotonic() > deadline:
                return latest
            text = latest
        return text


def _wait_port(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before listening on {port}:\n"
                + log_path.read_text(errors="replace")[-4000:]
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {START_TIMEOUT_S}s")


def _flags(**values: object) -> list[str]:
    """``listen="h:p"`` → ``["--listen", "h:p"]``."""
    return [
        item
        for name, value in values.items()
        for item in (f"--{name.replace('_', '-')}", str(value))
    ]


def _spawn(
    name: str, args: Sequence[str], log_dir: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], Path]:
    log_path = log_dir / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
        )
    return process, log_path


@contextlib.contextmanager
def emulator(versions: tuple[int, int, int], log_dir: Path) -> Iterator[Service]:
    """The built-in emulator serving ``min..max`` API versions (``default`` without a header)."""
    low, high, default = versions
    port = free_port()
    process, log_path = _spawn(
        f"emulator-v{low}-v{high}",
        [
            "emulator",
            *_flags(
                listen=f"127.0.0.1:{port}",
                min_api_version=low,
                max_api_version=high,
                default_api_version=default,
                app_key=APP_KEY,
                app_secret=APP_SECRET,
                master_secret=MASTER_SECRET,
            ),
        ],
        log_dir,
        {},
    )
    try:
        _wait_port(port, process, log_path)
        yield Service(f"emulator v{low}..v{high}", f"http://127.0.0.1:{port}", process, log_path)
    finally:
        stop_process(process)


@contextlib.contextmanager
def gateway(
    upstream: str,
    pin: int,
    log_dir: Path,
    config_file: Path | None = None,
    environ: dict[str, str] | None = None,
) -> Iterator[Service]:
    """``kinvey-gateway serve`` pinned to ``pin`` in front of ``upstream``; ready on /readyz.

    ``config_file`` is passed with ``--config``; ``environ`` adds settings
    (``KINVEY_GATEWAY_*``) to the process's environment."""
    port, admin_port = free_port(), free_port()
    config = ["--config", str(config_file)] if config_file is not None else []
    process, log_path = _spawn(
        f"gateway-pin{pin}-{port}",
        [
            "serve",
            *_flags(
                upstream=upstream,
                upstream_api_version=pin,
                listen=f"127.0.0.1:{port}",
                admin_listen=f"127.0.0.1:{admin_port}",
            ),
            *config,
        ],
        log_dir,
        {
            f"KINVEY_GATEWAY_APP_SECRET_{APP_KEY}": APP_SECRET,
            "KINVEY_GATEWAY_URL_SIGNING_SECRET": "sdk-flavours-url-signing-secret",
            "KINVEY_GATEWAY_SHUTDOWN_DRAIN_SECONDS": "0.05",
            **(environ or {}),
        },
    )
    try:
        wait_http(f"http://127.0.0.1:{admin_port}/readyz", START_TIMEOUT_S, process)
        yield Service(f"gateway pinned to {pin}", f"http://127.0.0.1:{port}", process, log_path)
    finally:
        stop_process(process)


@dataclass
class ScenarioRun:
    flavour: str
    base_url: str
    exit_code: int
    steps: list[dict[str, Any]]
    stdout: str
    stderr: str

    def step(self, name: str) -> dict[str, Any]:
        matches = [s for s in self.steps if s.get("step") == name]
        assert matches, f"no {name!r} step in the output of {self.flavour}:\n{self.report()}"
        return matches[0]

    def failed_steps(self) -> list[str]:
        return [str(s.get("step")) for s in self.steps if s.get("ok") is not True]

    def report(self, *services: Service) -> str:
        lines = [f"{self.flavour} against {self.base_url}: exit {self.exit_code}"]
        lines += [json.dumps(step) for step in self.steps]
        stray = [line for line in self.stdout.splitlines() if not _is_step_line(line)]
        if stray:
            lines.append("--- other stdout ---")
            lines += stray[-40:]
        lines.append(f"--- SDK stderr (last 3000 chars) ---\n{self.stderr[-3000:]}")
        lines += [service.log_tail() for service in services]
        return "\n".join(lines)


def _is_step_line(line: str) -> bool:
    try:
        parsed = json.loads(line)
    except ValueError:
        return False
    return isinstance(parsed, dict) and "step" in parsed and "ok" in parsed


def run_scenario(node: str, flavour: str, base_url: str) -> ScenarioRun:
    """``node scenario.js FLAVOUR BASE_URL APP_KEY APP_SECRET MASTER_SECRET``."""
    result = subprocess.run(
        [node, str(SDK_DIR / "scenario.js"), flavour, base_url, APP_KEY, APP_SECRET, MASTER_SECRET],
        cwd=SDK_DIR,
        capture_output=True,
        text=True,
        timeout=SCENARIO_TIMEOUT_S,
        check=False,
    )
    steps = [json.loads(line) for line in result.stdout.splitlines() if _is_step_line(line)]
    return ScenarioRun(flavour, base_url, result.returncode, steps, result.stdout, result.stderr)
