"""Real TLS to the upstream: certificates made at test time with trustme."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme

from tests.conftest import APP_KEY, StartGateway
from tests.support.processes import run_gateway_cli
from tests.tls.conftest import ServeTls, handshake, server_context


def _ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _outcome_count(registry: Any, outcome: str) -> float:
    total = 0.0
    for metric in registry.collect():
        for sample in metric.samples:
            if (
                sample.name == "kgw_upstream_requests_total"
                and sample.labels.get("outcome") == outcome
            ):
                total += sample.value
    return total


async def test_https_upstream_trusted_through_custom_ca(
    ca: trustme.CA, serve_tls: ServeTls, start_gateway: StartGateway, tmp_path: Path
) -> None:
    port = await serve_tls(server_context(ca.issue_cert("localhost")), min_api_version=6)
    gateway = await start_gateway(
        f"https://localhost:{port}", pin=6, upstream__tls__ca_file=_ca_file(ca, tmp_path)
    )
    status, body = await handshake(gateway.url)
    assert status == 200, body
    assert body["kinvey"].startswith("hello")


@pytest.mark.parametrize(
    ("case", "expect"),
    [("untrusted", "certificate"), ("wrong_host", "hostname"), ("expired", "expired")],
)
async def test_bad_upstream_certificates_give_502_naming_the_problem(
    ca: trustme.CA,
    serve_tls: ServeTls,
    start_gateway: StartGateway,
    tmp_path: Path,
    case: str,
    expect: str,
) -> None:
    if case == "untrusted":
        cert, trusted = trustme.CA().issue_cert("localhost"), ca
    elif case == "wrong_host":
        cert, trusted = ca.issue_cert("other.example"), ca
    else:
        past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2)
        cert = ca.issue_cert(
            "localhost", not_before=past - datetime.timedelta(days=30), not_after=past
        )
        trusted = ca
    port = await serve_tls(server_context(cert), min_api_version=6)
    gateway = await start_gateway(
        f"https://localhost:{port}", pin=6, upstream__tls__ca_file=_ca_file(trusted, tmp_path)
    )
    status, body = await handshake(gateway.url)
    assert status == 502
    assert body["error"] == "KinveyInternalErrorRetry"
    assert "TLS" in body["debug"] and expect in body["debug"].lower()
    assert "Traceback" not in body["debug"]
    assert _outcome_count(gateway.registry, "tls_error") == 1


async def test_mutual_tls_with_client_certificate(
    ca: trustme.CA, serve_tls: ServeTls, start_gateway: StartGateway, tmp_path: Path
) -> None:
    client_ca = trustme.CA()
    port = await serve_tls(server_context(ca.issue_cert("localhost"), client_ca), min_api_version=6)
    client_cert = client_ca.issue_cert("gateway.example")
    cert_path, key_path = tmp_path / "client.pem", tmp_path / "client.key"
    for blob in client_cert.cert_chain_pems:
        with cert_path.open("ab") as handle:
            handle.write(blob.bytes())
    client_cert.private_key_pem.write_to_path(str(key_path))
    ca_file = _ca_file(ca, tmp_path)
    with_cert = await start_gateway(
        f"https://localhost:{port}",
        pin=6,
        upstream__tls__ca_file=ca_file,
        upstream__tls__client_cert_file=str(cert_path),
        upstream__tls__client_key_file=str(key_path),
    )
    assert (await handshake(with_cert.url))[0] == 200
    without_cert = await start_gateway(
        f"https://localhost:{port}", pin=6, upstream__tls__ca_file=ca_file
    )
    status, body = await handshake(without_cert.url)
    assert status == 502
    assert body["error"] == "KinveyInternalErrorRetry"


async def test_verification_can_be_disabled_only_explicitly(
    serve_tls: ServeTls, start_gateway: StartGateway
) -> None:
    port = await serve_tls(server_context(trustme.CA().issue_cert("localhost")), min_api_version=6)
    gateway = await start_gateway(
        f"https://localhost:{port}", pin=6, upstream__tls__dangerously_disable_verification=True
    )
    assert (await handshake(gateway.url))[0] == 200
    info = [
        sample.labels
        for metric in gateway.registry.collect()
        for sample in metric.samples
        if sample.name == "kgw_build_info"
    ]
    assert info and info[0]["tls_verify"] == "false"


async def test_two_apps_on_two_upstreams_with_different_pins(
    start_emulator: Any, start_gateway: StartGateway, tmp_path: Path
) -> None:
    v5_only = await start_emulator(
        min_api_version=5, max_api_version=5, app_key="kid_five", app_secret="five-secret"
    )
    v6_only = await start_emulator(min_api_version=6, max_api_version=6)
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "apps:\n"
        f"  kid_five:\n    upstream_url: {v5_only}\n    upstream_api_version: 5\n"
        f"  {APP_KEY}:\n    upstream_api_version: 6\n"
    )
    gateway = await start_gateway(v6_only, pin=6, config_file=str(config))
    assert (await handshake(gateway.url, "3"))[0] == 200
    headers = {
        "Authorization": aiohttp.encode_basic_auth("kid_five", "five-secret"),
        "X-Kinvey-API-Version": "3",
    }
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{gateway.url}/appdata/kid_five", headers=headers) as response,
    ):
        assert response.status == 200, await response.text()
    # Without an app key the default upstream answers (v6 only, so no v5 header works there).
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{gateway.url}/appdata/", headers={"X-Kinvey-API-Version": "6"}) as response,
    ):
        assert response.status == 200


def test_check_config_rejects_unusable_certificate_files(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate\n")
    config = tmp_path / "gateway.yaml"
    config.write_text(f"upstream:\n  tls:\n    ca_file: {garbage}\n")
    result = run_gateway_cli("check-config", str(config))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "upstream.tls.ca_file: not a usable CA bundle" in result.stderr
    config.write_text(f"tls:\n  cert_file: {garbage}\n  key_file: {garbage}\n")
    result = run_gateway_cli("check-config", str(config))
    assert result.returncode == 2
    assert "tls.cert_file: not a usable certificate/key" in result.stderr
