"""What the CLI tells an operator before and at start: defaults in --help, warnings at start."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gateway.config_schema import FIELDS_BY_PATH
from gateway.emulator.config import EmulatorConfig
from tests.support.processes import free_port, run_gateway_cli, stop_process, wait_http

WIDE = {"PATH": "/usr/bin:/bin", "COLUMNS": "300"}  # argparse wraps help at the terminal width


def _help(command: str) -> str:
    """The option descriptions of ``COMMAND --help`` (after the usage line), on one line."""
    result = run_gateway_cli(command, "--help", env=WIDE)
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split("options:", 1)[1].split())


def test_serve_help_shows_every_default() -> None:
    text = _help("serve")
    assert "--upstream URL upstream Kinvey base URL (required; no default)" in text
    for flag, path in (
        ("--upstream-api-version M", "upstream.api_version"),
        ("--listen HOST:PORT", "listen"),
        ("--admin-listen HOST:PORT", "admin_listen"),
        ("--result-set-limit L", "limits.result_set_limit"),
    ):
        default = FIELDS_BY_PATH[path].default
        assert flag in text and f"(default: {default})" in text.split(flag, 1)[1][:120]
    assert "(default: the upstream pin)" in text


def test_emulator_and_demo_help_show_the_demo_credentials() -> None:
    defaults = EmulatorConfig()
    for command in ("emulator", "demo"):
        text = _help(command)
        for flag, value in (
            ("--app-key", defaults.app_key),
            ("--app-secret", defaults.app_secret),
            ("--master-secret", defaults.master_secret),
        ):
            assert f"(default: {value})" in text.split(flag, 1)[1][:80], (command, flag, text)


def _start_warnings(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """The application-log warnings of a real ``serve`` process that started and stopped."""
    admin = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--upstream", "http://127.0.0.1:9",
         "--listen", "127.0.0.1:0", "--admin-listen", f"127.0.0.1:{admin}", *args],
        env={**WIDE, "KINVEY_GATEWAY_URL_SIGNING_SECRET": "s",
             "KINVEY_GATEWAY_SHUTDOWN_DRAIN_SECONDS": "0.05", **(env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{admin}/readyz", process=process)
    finally:
        assert stop_process(process) == 0
    assert process.stderr is not None
    entries = [json.loads(line) for line in process.stderr.read().splitlines()]
    return [entry["message"] for entry in entries if entry["level"] == "warning"]


NO_APP_SECRET = (
    "upstream pinned to API version 6, which refuses user Basic auth, and no app has an app "
    "secret: every old app's user Basic request will get 401 (add apps.<appKey>.app_secret_file "
    "or KINVEY_GATEWAY_APP_SECRET_<appKey>)"
)


@pytest.mark.parametrize(
    ("args", "env", "warned"),
    [
        (["--upstream-api-version", "6"], {}, True),
        (["--upstream-api-version", "6"], {"KINVEY_GATEWAY_APP_SECRET_kid_a": "x"}, False),
        (["--upstream-api-version", "5"], {}, False),
    ],
)
def test_a_pin_that_refuses_basic_auth_without_app_secrets_is_warned_about(
    args: list[str], env: dict[str, str], warned: bool
) -> None:
    assert (NO_APP_SECRET in _start_warnings(*args, env=env)) is warned
