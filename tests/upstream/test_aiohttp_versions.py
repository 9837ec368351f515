"""The aiohttp the gateway runs on is one it was tested with, and a new release is found by CI.

The gateway uses aiohttp internals (all in gateway/http/aiohttp_shim.py). Importing the shim
checks the installed aiohttp; pyproject.toml declares the same range and constraints.txt pins
a version inside it. The slow cases install aiohttp releases from the package registry into a
temporary directory put before the virtualenv on ``PYTHONPATH``: an older release must stop
the gateway at start-up with one line naming it, and the newest release must pass the
transport conformance suite (tests/upstream) — or this test fails and names it, so an
upgrade is found here, not by users.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gateway.http.aiohttp_shim import SUPPORTED_RANGE, AiohttpMismatch, check_aiohttp

REPO = Path(__file__).resolve().parents[2]
PIP_SECONDS = 240
SUITE_SECONDS = 420
PIP_INSTALL = (sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir")
PYTEST = (sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider")


@pytest.mark.parametrize("version", ["3.14.0", "3.14.5", "3.14.12"])
def test_versions_in_the_range_pass_the_check(version: str) -> None:
    check_aiohttp(version)


@pytest.mark.parametrize("version", ["3.12.15", "3.13.5", "3.15.0", "3.15.0a1", "4.0.0"])
def test_versions_outside_the_range_stop_with_one_line_naming_them(version: str) -> None:
    with pytest.raises(AiohttpMismatch) as stopped:
        check_aiohttp(version)
    message = str(stopped.value)
    assert "\n" not in message
    assert f"aiohttp {version} is installed" in message
    assert f"needs aiohttp{SUPPORTED_RANGE}" in message


def test_a_missing_internal_is_named_even_in_the_range() -> None:
    with pytest.raises(AiohttpMismatch, match=r"BaseProtocol\._parser is missing"):
        check_aiohttp("3.14.5", missing="BaseProtocol._parser")


def test_pyproject_declares_the_supported_range_and_constraints_pin_inside_it() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert f"aiohttp{SUPPORTED_RANGE}" in project["project"]["dependencies"]
    pins = dict(
        line.split("==")
        for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    )
    check_aiohttp(pins["aiohttp"])  # the pinned version is one the range allows


def _install(target: Path, requirement: str) -> str:
    """``requirement`` from the registry into ``target``; returns the aiohttp version got."""
    subprocess.run(
        [*PIP_INSTALL, "--target", str(target), requirement],
        check=True,
        timeout=PIP_SECONDS,
        capture_output=True,
    )
    probe = subprocess.run(
        [sys.executable, "-c", "import aiohttp; print(aiohttp.__version__)"],
        env=_env(target),
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return probe.stdout.strip()


def _env(target: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(REPO)])}


@pytest.mark.slow
def test_an_older_aiohttp_stops_the_gateway_with_one_line(tmp_path: Path) -> None:
    version = _install(tmp_path, "aiohttp==3.13.5")
    assert version == "3.13.5"
    started = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--listen", "127.0.0.1:0"],
        env=_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert started.stderr.strip().splitlines() == [
        f"kinvey-gateway: aiohttp 3.13.5 is installed, but this gateway needs "
        f"aiohttp{SUPPORTED_RANGE} (it was not tested with this gateway); install the pinned "
        "versions: pip install -c constraints.txt ."
    ]


@pytest.mark.slow
def test_the_transport_suite_passes_on_the_newest_aiohttp_release(tmp_path: Path) -> None:
    version = _install(tmp_path, "aiohttp")
    suite = subprocess.run(
        [*PYTEST, "tests/upstream", "--deselect", "tests/upstream/test_aiohttp_versions.py"],
        env=_env(tmp_path),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=SUITE_SECONDS,
    )
    tail = "\n".join((suite.stdout + suite.stderr).splitlines()[-15:])
    assert suite.returncode == 0, (
        f"the newest aiohttp, {version}, fails the transport suite:\n{tail}"
    )
