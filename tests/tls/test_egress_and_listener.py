"""An egress proxy (CONNECT tunnel) when configured, and HTTPS on the listener with rotation."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.conftest import StartGateway
from tests.tls.conftest import ServeTls, handshake, server_context


class ConnectProxy:
    """A minimal HTTP CONNECT proxy that records every tunnel it opens."""

    def __init__(self) -> None:
        self.tunnels: list[str] = []
        self.server: asyncio.Server | None = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            writer.close()
            return
        self.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])


@pytest.fixture
async def connect_proxy() -> AsyncIterator[ConnectProxy]:
    proxy = ConnectProxy()
    yield proxy
    if proxy.server:
        proxy.server.close()


async def test_egress_proxy_is_used_only_when_configured(
    ca: trustme.CA,
    serve_tls: ServeTls,
    start_gateway: StartGateway,
    tmp_path: Path,
    connect_proxy: ConnectProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = await serve_tls(server_context(ca.issue_cert("localhost")), min_api_version=6)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    proxy_port = await connect_proxy.start()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy_port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    direct = await start_gateway(f"https://localhost:{port}", upstream__tls__ca_file=str(ca_file))
    assert (await handshake(direct.url))[0] == 200
    assert connect_proxy.tunnels == []  # off by default: a sidecar talks direct
    proxied = await start_gateway(
        f"https://localhost:{port}",
        upstream__tls__ca_file=str(ca_file),
        upstream__use_env_proxy=True,
    )
    status, body = await handshake(proxied.url)
    assert status == 200, body
    assert connect_proxy.tunnels == [f"localhost:{port}"]
    monkeypatch.setenv("NO_PROXY", "localhost")
    assert (await handshake(proxied.url))[0] == 200
    assert len(connect_proxy.tunnels) == 1


def _write_pair(cert: trustme.LeafCert, cert_path: Path, key_path: Path) -> None:
    cert_path.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    key_path.write_bytes(cert.private_key_pem.bytes())


async def _peer_serial(url: str, trust: ssl.SSLContext) -> tuple[int, int]:
    """One fresh TLS connection: the HTTP status it gets and the serial of the served cert."""
    from cryptography import x509

    host, port = url.removeprefix("https://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port), ssl=trust)
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.write(b"GET /appdata/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    writer.close()
    return status, x509.load_der_x509_certificate(der).serial_number


async def test_listener_serves_https_and_picks_up_a_rotated_certificate(
    start_emulator: Any, start_gateway: StartGateway, tmp_path: Path
) -> None:
    upstream = await start_emulator(min_api_version=6, max_api_version=6)
    ca = trustme.CA()
    first, second = ca.issue_cert("127.0.0.1"), ca.issue_cert("127.0.0.1")
    cert_path, key_path = tmp_path / "tls.crt", tmp_path / "tls.key"
    _write_pair(first, cert_path, key_path)
    gateway = await start_gateway(
        upstream,
        tls__cert_file=str(cert_path),
        tls__key_file=str(key_path),
        tls__reload_interval_seconds=0.1,
    )
    https_url = gateway.url.replace("http://", "https://")
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    status, serial = await _peer_serial(https_url, trust)
    from cryptography import x509

    assert status == 200
    assert serial == x509.load_pem_x509_certificate(first.cert_chain_pems[0].bytes()).serial_number
    _write_pair(second, cert_path, key_path)
    want = x509.load_pem_x509_certificate(second.cert_chain_pems[0].bytes()).serial_number
    for _ in range(100):
        status, serial = await _peer_serial(https_url, trust)
        if serial == want:
            break
        await asyncio.sleep(0.05)
    assert (status, serial) == (200, want)
