"""`kinvey-gateway demo` as a user runs it: started, queried like the README says, stopped."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import aiohttp

from tests.support.processes import free_port, wait_http

AUTH = aiohttp.encode_basic_auth("kid_demo", "demo-secret")


async def _status(url: str, version: str) -> tuple[int, dict]:
    headers = {"Authorization": AUTH, "X-Kinvey-API-Version": version}
    async with aiohttp.ClientSession() as client, client.get(url, headers=headers) as response:
        return response.status, await response.json()


async def test_demo_serves_old_clients_and_stops_cleanly() -> None:
    proxy, admin, emulator = free_port(), free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            "demo",
            "--listen",
            f"127.0.0.1:{proxy}",
            "--admin-listen",
            f"127.0.0.1:{admin}",
            "--emulator-listen",
            f"127.0.0.1:{emulator}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{admin}/readyz", process=process)
        status, body = await _status(f"http://127.0.0.1:{proxy}/appdata/kid_demo", "3")
        assert status == 200, body
        status, body = await _status(f"http://127.0.0.1:{emulator}/appdata/kid_demo", "3")
        assert (status, body["error"]) == (400, "APIVersionNotAvailable")
    finally:
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert time.monotonic() - started < 15
    assert (
        f"curl -i -u kid_demo:demo-secret -H 'X-Kinvey-API-Version: 3' http://127.0.0.1:{proxy}/appdata/kid_demo"
        in output
    )
    assert "demo stopped" in output
