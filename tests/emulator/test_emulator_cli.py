"""The emulator CLI as a real process: the listening line, real requests, clean SIGTERM exit."""

import argparse
import asyncio
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from gateway.emulator.cli import add_emulator_arguments, config_from_args, parse_listen
from tests.support.kinvey_client import basic

REPO_ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"emulator listening on http://127\.0\.0\.1:(\d+) \(API versions (\d)-(\d)\)")


async def _start_emulator_cli(*args: str) -> asyncio.subprocess.Process:
    """``python -m gateway.emulator.cli --listen 127.0.0.1:0 ARGS``, output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.emulator.cli",
        "--listen",
        "127.0.0.1:0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO_ROOT,
    )


async def test_runs_serves_and_stops_on_sigterm() -> None:
    process = await _start_emulator_cli(
        "--min-api-version",
        "2",
        "--max-api-version",
        "5",
        "--app-key",
        "kid_cli",
        "--app-secret",
        "s1",
        "--master-secret",
        "m1",
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        found = LINE.fullmatch(line.strip())
        assert found, line
        assert found.group(2, 3) == ("2", "5")
        base = f"http://127.0.0.1:{found.group(1)}"
        async with aiohttp.ClientSession() as session:
            async with session.get(
                f"{base}/appdata/kid_cli", headers={"Authorization": basic("kid_cli", "s1")}
            ) as reply:
                assert reply.status == 200
                assert reply.headers["X-Kinvey-API-Version"] == "5"  # default = max
            async with session.get(
                f"{base}/appdata/kid_cli", headers={"X-Kinvey-API-Version": "6"}
            ) as refused:
                assert refused.status == 400
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_bad_configuration_exits_with_2() -> None:
    process = await _start_emulator_cli("--min-api-version", "5", "--max-api-version", "3")
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2 and b"min" in stderr


def test_arguments_become_a_config() -> None:
    parser = argparse.ArgumentParser()
    add_emulator_arguments(parser)
    args = parser.parse_args(["--default-api-version", "3", "--result-set-limit", "50"])
    config = config_from_args(args)
    assert config.default_api_version == 3 and config.result_set_limit == 50
    assert args.listen == "127.0.0.1:7007"
    assert config_from_args(parser.parse_args([])).default_api_version == 6


@pytest.mark.parametrize(
    "text, expected", [("127.0.0.1:7007", ("127.0.0.1", 7007)), ("[::1]:80", ("::1", 80))]
)
def test_parse_listen(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["7007", "host:", ":80", "h:99999", "h:x"])
def test_parse_listen_rejects(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_listen(text)
