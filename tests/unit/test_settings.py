"""Configuration: precedence, validation with one clear line, secrets kept out of sight."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from gateway.settings import ConfigError, effective_settings, load_settings
from tests.support.processes import run_gateway_cli

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    return str(path)


def test_reference_config_and_examples_load() -> None:
    for path in [REPO / "config/gateway.yaml", *sorted((REPO / "config/examples").glob("*.yaml"))]:
        load_settings(str(path), {})


def test_flag_beats_environment_beats_file(tmp_path: Path) -> None:
    config = _write(tmp_path, "upstream:\n  url: http://file:1\n  api_version: 4\n")
    settings = load_settings(config, {"KINVEY_GATEWAY_UPSTREAM_URL": "http://env:2"})
    assert (settings.upstream.url, settings.upstream_api_version) == ("http://env:2", 4)
    settings = load_settings(
        config, {"KINVEY_GATEWAY_UPSTREAM_URL": "http://env:2"}, {"upstream.url": "http://flag:3"}
    )
    assert settings.upstream.url == "http://flag:3"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope: 1\n", "nope: unknown setting"),
        ("upstream:\n  urll: http://x\n", "upstream.urll: unknown setting"),
        ("upstream:\n  api_version: 9\n", "upstream.api_version: 9 is out of range 3..8"),
        ("upstream:\n  api_version: six\n", "upstream.api_version: expected an integer"),
        ("upstream:\n  url: ftp://x\n", "upstream.url: expected an http:// or https:// URL"),
        ("listen: 8080\n", "listen: expected HOST:PORT"),
        ("metrics:\n  enabled: maybe\n", "metrics.enabled: expected true or false"),
        (
            "apps:\n  kid_a:\n    min_client_api_version: 9\n",
            "apps.kid_a.min_client_api_version: 9 is out of range 0..8",
        ),
        ("apps:\n  kid_a:\n    colour: red\n", "apps.kid_a.colour: unknown setting"),
        (
            "apps:\n  kid_a:\n    app_secret_file: /nonexistent/secret\n",
            "apps.kid_a.app_secret_file: cannot read /nonexistent/secret",
        ),
        (
            "upstream:\n  tls:\n    ca_file: /nonexistent/ca.pem\n",
            "upstream.tls.ca_file: cannot read /nonexistent/ca.pem",
        ),
        ("- a\n- b\n", "the top level must be a mapping"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_bad_config_names_the_key_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_settings(_write(tmp_path, text), {}, newest_version=8)  # as if v7, v8 existed


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="KINVEY_GATEWAY_UPSTREAM_API_VERSION"):
        load_settings(None, {"KINVEY_GATEWAY_UPSTREAM_API_VERSION": "2"})


def test_secrets_from_file_and_environment_are_redacted(tmp_path: Path) -> None:
    secret_file = tmp_path / "s"
    secret_file.write_text("file-secret\n")
    config = _write(
        tmp_path,
        f"apps:\n  kid_a:\n    app_secret_file: {secret_file}\n  kid_b:\n    app_secret: inline\n",
    )
    settings = load_settings(
        config,
        {
            "KINVEY_GATEWAY_APP_SECRET_kid_c": "env-secret",
            "KINVEY_GATEWAY_URL_SIGNING_SECRET": "sign",
        },
    )
    assert settings.apps["kid_a"].app_secret == "file-secret"
    assert settings.apps["kid_b"].app_secret == "inline"
    assert settings.apps["kid_c"].app_secret == "env-secret"
    assert settings.url_signing_secret == "sign"
    printed = yaml.safe_dump(effective_settings(settings)) + repr(settings)
    for secret in ("file-secret", "inline", "env-secret", "sign\n"):
        assert secret not in printed


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_gateway_cli(*args, env={"PATH": "/usr/bin:/bin"})


def test_check_config_prints_effective_settings(tmp_path: Path) -> None:
    config = _write(
        tmp_path, "upstream:\n  url: http://up:1\napps:\n  kid_a:\n    app_secret: hush\n"
    )
    result = _cli("check-config", config)
    assert result.returncode == 0, result.stderr
    printed = yaml.safe_load(result.stdout)
    assert printed["apps"]["kid_a"]["app_secret"] == "***"
    assert printed["upstream"]["api_version"] == 6
    assert "hush" not in result.stdout


def test_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    result = _cli(
        "check-config", _write(tmp_path, "upstream:\n  api_version: 2\n  url: http://u\n")
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "upstream.api_version" in result.stderr
    result = _cli("serve", "--config", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert "cannot read it" in result.stderr


def test_configuration_reference_is_current() -> None:
    from gateway.config_reference import render

    assert (REPO / "docs/configuration.md").read_text() == render(), (
        "docs/configuration.md is stale: run `python -m gateway.config_reference > "
        "docs/configuration.md`"
    )
