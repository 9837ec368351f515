"""Run kinvey-gateway commands as real processes on 127.0.0.1, always stopped by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(
    url: str,
    timeout: float = 20.0,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def run_gateway_cli(
    *args: str, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """``python -m gateway ARGS`` to its end, output captured as text (``env``: all of it)."""
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=check,
    )


def serve_args(upstream_url: str, port: int, admin_port: int, pin: int = 6) -> list[str]:
    """``serve`` in front of ``upstream_url`` pinned to ``pin``, listening on 127.0.0.1."""
    return [
        "serve",
        "--upstream",
        upstream_url,
        "--upstream-api-version",
        str(pin),
        "--listen",
        f"127.0.0.1:{port}",
        "--admin-listen",
        f"127.0.0.1:{admin_port}",
    ]


@contextlib.contextmanager
def gateway_process(
    args: Sequence[str],
    *,
    admin_port: int | None = None,
    ready_url: str | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m gateway ARGS``; waits for readiness, stops it by PID afterwards."""
    full_env = {
        **os.environ,
        "KINVEY_GATEWAY_SHUTDOWN_DRAIN_SECONDS": "0.05",
        "KINVEY_GATEWAY_LOGGING_ACCESS_LOG": "false",
        **(env or {}),
    }
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", *args],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        url = ready_url or (f"http://127.0.0.1:{admin_port}/readyz" if admin_port else None)
        if url:
            wait_http(url, process=process)
        yield process
    except Exception:
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace")[-5000:])
        raise
    finally:
        stop_process(process)
        log.close()
