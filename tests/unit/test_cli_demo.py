"""`kinvey-gateway demo` as a user runs it: started, queried like the README says, stopped."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import aiohttp

from tests.support.processes import free_port, run_gateway_cli, wait_http

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
    # the newcomer sees the traffic: one access-log line per answer, readable key=value
    access = [line for line in output.splitlines() if " log=access " in line]
    assert len(access) == 1, output
    assert " route=appdata.handshake " in access[0] and " client_api_version=3 " in access[0]
    assert " status=200 " in access[0]


def test_a_busy_demo_port_names_the_setting_to_change() -> None:
    settings = {"--listen": "DEMO_LISTEN", "--admin-listen": "DEMO_ADMIN",
                "--emulator-listen": "DEMO_EMULATOR"}  # fmt: skip
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = f"127.0.0.1:{taken.getsockname()[1]}"
        for flag, make_variable in settings.items():
            addresses = {other: f"127.0.0.1:{free_port()}" for other in settings}
            addresses[flag] = busy
            args = [part for pair in addresses.items() for part in pair]
            result = run_gateway_cli("demo", *args, env={"PATH": "/usr/bin:/bin"})
            assert result.returncode == 2, result.stderr
            assert result.stderr.splitlines()[-1] == (
                f"kinvey-gateway: config error: {flag} (make demo {make_variable}=HOST:PORT): "
                f"{busy} is already in use by another process; choose a free port"
            )
