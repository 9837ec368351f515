"""Configuration errors as an operator meets them: the real CLI process, its stderr verbatim.

Every problem names the flag, environment variable or YAML key the way the user wrote it, and
all problems of one start are reported together, one line each (exit code 2).
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from gateway.cli import newest_known_version
from gateway.config_schema import FIELDS
from tests.support.processes import run_gateway_cli

PREFIX = "kinvey-gateway: config error: "
BASE_ENV = {"PATH": "/usr/bin:/bin"}
NEWEST = newest_known_version()  # follows gateway/changes/: adding v7 moves it
TOO_NEW = NEWEST + 1

# flag -> (a bad value, the reason printed after "FLAG: ")
BAD_FLAGS = {
    "--upstream": ("not-a-url", "expected an http:// or https:// URL, got 'not-a-url'"),
    "--upstream-api-version": (f"{TOO_NEW}", f"{TOO_NEW} is out of range 3..{NEWEST}"),
    "--listen": ("8080", "expected HOST:PORT, got '8080'"),
    "--admin-listen": ("localhost", "expected HOST:PORT, got 'localhost'"),
    "--result-set-limit": ("0", "0 is out of range 1..1000000"),
    "--default-client-api-version": (f"{TOO_NEW}", f"{TOO_NEW} is out of range 0..{NEWEST}"),
}

# setting -> (a bad value for its KINVEY_GATEWAY_* variable, the reason printed after the name)
BAD_VALUES = {
    "listen": ("nowhere", "expected HOST:PORT, got 'nowhere'"),
    "admin_listen": ("1.2.3.4:99999", "expected HOST:PORT, got '1.2.3.4:99999'"),
    "public_base_url": (
        "gateway.example",
        "expected an http:// or https:// URL, got 'gateway.example'",
    ),
    "default_client_api_version": ("-1", f"-1 is out of range 0..{NEWEST}"),
    "upstream.url": ("http://h/?q=1", "a base URL takes no query or fragment, got 'http://h/?q=1'"),
    "upstream.api_version": ("2", f"2 is out of range 3..{NEWEST}"),
    "upstream.connect_timeout_seconds": ("0", "must be greater than 0, got 0.0"),
    "upstream.read_timeout_seconds": ("soon", "expected a number, got 'soon'"),
    "upstream.pool_size": ("many", "expected an integer, got 'many'"),
    "upstream.keepalive_timeout_seconds": ("-3", "must be greater than 0, got -3.0"),
    "upstream.use_env_proxy": ("maybe", "expected true or false, got 'maybe'"),
    "upstream.tls.ca_file": ("/nonexistent/ca.pem", "cannot read /nonexistent/ca.pem"),
    "upstream.tls.ca_dir": ("/nonexistent/cas", "/nonexistent/cas is no directory"),
    "upstream.tls.client_cert_file": ("/nonexistent/c.pem", "cannot read /nonexistent/c.pem"),
    "upstream.tls.client_key_file": ("/nonexistent/k.pem", "cannot read /nonexistent/k.pem"),
    "upstream.tls.min_version": ("1.1", "expected one of 1.2, 1.3, got '1.1'"),
    "upstream.tls.dangerously_disable_verification": ("ja", "expected true or false, got 'ja'"),
    "tls.cert_file": ("/nonexistent/cert.pem", "cannot read /nonexistent/cert.pem"),
    "tls.key_file": ("/nonexistent/key.pem", "cannot read /nonexistent/key.pem"),
    "tls.reload_interval_seconds": ("0", "must be greater than 0, got 0.0"),
    "limits.max_buffered_body_bytes": ("10", "10 is out of range 1024..2147483648"),
    "limits.result_set_limit": ("0", "0 is out of range 1..1000000"),
    "limits.max_buffered_bytes_total": ("1k", "expected an integer, got '1k'"),
    "upstream.pool_timeout_seconds": ("0", "must be greater than 0, got 0.0"),
    "storage.connect_timeout_seconds": ("-1", "must be greater than 0, got -1.0"),
    "storage.read_timeout_seconds": ("slow", "expected a number, got 'slow'"),
    "storage.pool_size": ("0", "0 is out of range 1..100000"),
    "storage.tls.ca_file": (
        "/nonexistent/storage-ca.pem",
        "cannot read /nonexistent/storage-ca.pem",
    ),
    "limits.max_concurrent_requests": ("1.5", "expected an integer, got '1.5'"),
    "limits.max_header_bytes": ("1", "1 is out of range 1024..1048576"),
    "limits.client_body_timeout_seconds": ("never", "expected a number, got 'never'"),
    "limits.max_client_connections": ("0", "0 is out of range 1..1000000"),
    "limits.client_idle_timeout_seconds": ("0", "must be greater than 0, got 0.0"),
    "auth.token_cache_size": ("0", "0 is out of range 1..10000000"),
    "auth.token_cache_ttl_seconds": ("x", "expected a number, got 'x'"),
    "url_signing.secret_file": ("/nonexistent/sign", "cannot read /nonexistent/sign"),
    "url_signing.ttl_seconds": ("0", "must be greater than 0, got 0.0"),
    "logging.level": ("loud", "expected one of debug, info, warning, error, got 'loud'"),
    "logging.format": ("xml", "expected one of json, text, got 'xml'"),
    "logging.access_log": ("2", "expected true or false, got '2'"),
    "metrics.enabled": ("nah", "expected true or false, got 'nah'"),
    "shutdown.drain_seconds": ("-1", "must be greater than 0, got -1.0"),
    "shutdown.timeout_seconds": ("forever", "expected a number, got 'forever'"),
    "url_signing.previous_secrets_file": ("/nonexistent/old", "cannot read /nonexistent/old"),
    "metrics.client_release_top_k": ("0", "0 is out of range 1..1000"),
    "shadow.candidate_api_version": ("2", f"2 is out of range 3..{NEWEST}"),
    "shadow.upstream_url": ("ftp://x", "expected an http:// or https:// URL, got 'ftp://x'"),
    "shadow.sample_ratio": ("2", "expected a ratio from 0 to 1, got 2.0"),
    "shadow.max_concurrency": ("0", "0 is out of range 1..1000"),
    "shadow.routes": (
        "user.login",
        "user.login not allowed; choose from appdata.collection, appdata.count, "
        "appdata.deltaset, appdata.entity, appdata.group, appdata.handshake, blob.entity, "
        "user.collection, user.entity, user.me",
    ),
    "shadow.max_calls_per_second": ("0", "must be greater than 0, got 0.0"),
    "shadow.max_body_bytes": ("-1", "-1 is out of range 0..67108864"),
    "shadow.timeout_seconds": ("later", "expected a number, got 'later'"),
    "shadow.samples_kept": ("0", "0 is out of range 1..10000"),
    "shadow.show_values": ("sometimes", "expected true or false, got 'sometimes'"),
}
# a secret has no wrong shape
ANY_STRING_IS_VALID = {"url_signing.secret", "url_signing.previous_secret"}


def _errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 2, (result.returncode, result.stderr)
    # application log lines (start-up warnings) are JSON; the config errors are plain text
    return [line[len(PREFIX) :] for line in result.stderr.splitlines() if line.startswith(PREFIX)]


def test_the_table_covers_every_setting() -> None:
    assert {f.path for f in FIELDS} == set(BAD_VALUES) | ANY_STRING_IS_VALID


@pytest.mark.parametrize("flag", list(BAD_FLAGS))
def test_a_bad_flag_is_named_as_written(flag: str) -> None:
    value, reason = BAD_FLAGS[flag]
    args = ["serve", flag, value]
    if flag != "--upstream":
        args += ["--upstream", "http://127.0.0.1:9"]
    assert _errors(run_gateway_cli(*args, env=BASE_ENV)) == [f"{flag}: {reason}"]


def test_every_bad_flag_is_reported_in_one_run() -> None:
    args = [part for flag, (value, _) in BAD_FLAGS.items() for part in (flag, value)]
    assert _errors(run_gateway_cli("serve", *args, env=BASE_ENV)) == [
        f"{flag}: {reason}" for flag, (_, reason) in BAD_FLAGS.items()
    ]


def test_every_bad_environment_variable_is_named_in_one_run() -> None:
    env = {**BASE_ENV, **{f.env: BAD_VALUES[f.path][0] for f in FIELDS if f.path in BAD_VALUES}}
    # values first, then whether the files they name exist: compare regardless of order
    assert sorted(_errors(run_gateway_cli("serve", env=env))) == sorted(
        f"{f.env}: {BAD_VALUES[f.path][1]}" for f in FIELDS if f.path in BAD_VALUES
    )


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        (
            "KINVEY_GATEWAY_UPSTREAM_ULR",
            "KINVEY_GATEWAY_UPSTREAM_ULR: unknown environment variable "
            "(did you mean KINVEY_GATEWAY_UPSTREAM_URL?)",
        ),
        ("KINVEY_GATEWAY_COLOUR", "KINVEY_GATEWAY_COLOUR: unknown environment variable"),
    ],
)
def test_an_unknown_variable_is_an_error_like_an_unknown_key(variable: str, expected: str) -> None:
    env = {**BASE_ENV, variable: "http://127.0.0.1:9"}
    assert _errors(run_gateway_cli("serve", "--upstream", "http://127.0.0.1:9", env=env)) == [
        expected
    ]


def test_every_problem_of_a_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        f"upstream:\n  url: ftp://x\n  api_version: {TOO_NEW}\n  ulr: http://y\nlisten: 8080\n"
        f"apps:\n  kid_a:\n    min_client_api_version: {TOO_NEW}\n    colour: red\n"
    )
    assert _errors(run_gateway_cli("check-config", str(config), env=BASE_ENV)) == [
        "upstream.url: expected an http:// or https:// URL, got 'ftp://x'",
        f"upstream.api_version: {TOO_NEW} is out of range 3..{NEWEST}",
        "upstream.ulr: unknown setting (did you mean upstream.url?)",
        "listen: expected HOST:PORT, got '8080'",
        f"apps.kid_a.min_client_api_version: {TOO_NEW} is out of range 0..{NEWEST}",
        "apps.kid_a.colour: unknown setting",
    ]


def test_serve_without_an_upstream_refuses_to_start() -> None:
    assert _errors(run_gateway_cli("serve", env=BASE_ENV)) == [
        "no upstream configured: give --upstream URL, KINVEY_GATEWAY_UPSTREAM_URL or "
        "upstream.url in the config file (e.g. https://<instance>-baas.kinvey.com)"
    ]


def _resolver_error(host: str) -> str:
    try:
        socket.getaddrinfo(host, 8080)
    except socket.gaierror as exc:
        return str(exc.strerror)
    pytest.fail(f"{host} resolved")


def test_an_unresolvable_listen_host_names_the_setting() -> None:
    host = "no-such-host.invalid"
    env = {**BASE_ENV, "KINVEY_GATEWAY_LISTEN": f"{host}:8080"}
    assert _errors(run_gateway_cli("serve", "--upstream", "http://127.0.0.1:9", env=env)) == [
        f"KINVEY_GATEWAY_LISTEN: cannot resolve the host of {host}:8080 "
        f"({_resolver_error(host)}); use an IP address"
    ]


def test_a_busy_port_names_the_setting_to_change() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        result = run_gateway_cli(
            "serve", "--upstream", "http://127.0.0.1:9", "--listen", "127.0.0.1:0",
            "--admin-listen", address, env=BASE_ENV,
        )  # fmt: skip
    assert _errors(result) == [
        f"--admin-listen: {address} is already in use by another process; choose a free port"
    ]
