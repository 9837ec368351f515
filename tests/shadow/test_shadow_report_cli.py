"""``kinvey-gateway shadow-report --admin URL``, the real command against a running gateway."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from gateway.changes import BUNDLE
from gateway.versioning.bundle import VersionBundle
from tests.conftest import APP_KEY, StartGateway
from tests.shadow.test_shadow_end_to_end import SHADOW, _BrokenTitle, _settled, _user
from tests.support.kinvey_client import KinveyClient


async def _report(admin_url: str) -> tuple[int, str]:
    # Not subprocess.run: the gateway answering it runs on this test's event loop.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "shadow-report", "--admin", admin_url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert err == b"", err
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_the_report_names_the_differing_clients_and_fields(
    start_emulator: Callable[..., Awaitable[str]], start_gateway: StartGateway
) -> None:
    emulator = await start_emulator(min_api_version=0, max_api_version=6)
    gateway = await start_gateway(emulator, pin=5, **SHADOW)
    status, out = await _report(gateway.admin_url)
    assert status == 3, out
    assert "No comparisons yet" in out

    _, _, token = await _user(emulator)
    for version in (5, 6):
        client = KinveyClient(gateway.url, version, f"Kinvey {token}")
        created = await client.call("POST", f"/appdata/{APP_KEY}/rep", body={"title": "t"})
        assert (
            await client.call("GET", f"/appdata/{APP_KEY}/rep/{created.json['_id']}")
        ).status == 200
    await _settled(gateway, 2)
    status, out = await _report(gateway.admin_url)
    assert status == 0, out
    assert "Every compared client version answers the same at 6." in out

    gateway.runtime.gateway.bundle = VersionBundle([*BUNDLE.changes, _BrokenTitle])
    client = KinveyClient(gateway.url, 3, f"Kinvey {token}")
    created = await client.call("POST", f"/appdata/{APP_KEY}/rep", body={"title": "t"})
    assert (await client.call("GET", f"/appdata/{APP_KEY}/rep/{created.json['_id']}")).status == 200
    await _settled(gateway, 3)
    status, out = await _report(gateway.admin_url)
    assert status == 1, out
    lines = out.splitlines()
    assert lines[0] == "shadow comparison at candidate pin 6 (sampling 100% of eligible reads)"
    v3 = next(line for line in lines if line.startswith("v3 "))
    assert v3.split() == ["v3", "1", "0", "1", "0", "0", "0", "DIFFERS", "on", "appdata.entity"]
    assert "          appdata.entity $.title" in lines
    assert next(line for line in lines if line.startswith("v5 ")).endswith(
        "safe: no differences in 1 comparisons"
    )
    assert lines[-1] == "NOT safe to raise the pin to 6 yet."


async def test_the_report_says_when_shadow_is_off(
    start_emulator: Callable[..., Awaitable[str]], start_gateway: StartGateway
) -> None:
    gateway = await start_gateway(await start_emulator(), pin=6)
    assert await _report(gateway.admin_url) == (
        3,
        "shadow comparison is off (set shadow.candidate_api_version)\n",
    )
