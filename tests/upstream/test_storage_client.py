"""File storage is not the upstream: its own trust, no upstream client certificate, its own
timeouts, its own metric (``kgw_storage_requests_total``)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from multidict import CIMultiDict

from gateway.http.storage_probe import StorageProbe
from tests.conftest import RunningGateway, StartGateway
from tests.tls.conftest import server_context


class TlsStorage:
    """An HTTPS server that asks for (does not require) a client certificate and records
    whether one came; ``silent`` makes it never answer."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.client_certificates: list[bool] = []
        self.silent = False
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"https://localhost:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.context)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.client_certificates.append(bool(writer.get_extra_info("peercert")))
        try:
            await reader.readuntil(b"\r\n\r\n")
            if self.silent:
                await asyncio.sleep(10)
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()


def _pem(path: Path, *blobs: trustme.Blob) -> str:
    path.write_bytes(b"".join(blob.bytes() for blob in blobs))
    return str(path)


@pytest.fixture
async def storage_and_gateway(
    start_gateway: StartGateway, tmp_path: Path
) -> AsyncIterator[tuple[TlsStorage, RunningGateway]]:
    server_ca, client_ca = trustme.CA(), trustme.CA()
    context = server_context(server_ca.issue_cert("localhost"))
    client_ca.configure_trust(context)
    context.verify_mode = ssl.CERT_OPTIONAL  # asks for a client certificate, records it
    storage = TlsStorage(context)
    await storage.start()
    client_cert = client_ca.issue_cert("gateway.example")
    ca_file = _pem(tmp_path / "ca.pem", server_ca.cert_pem)
    gateway = await start_gateway(
        storage.url,  # the upstream is the same host here: only the client settings differ
        upstream__tls__ca_file=ca_file,
        upstream__tls__client_cert_file=_pem(tmp_path / "client.pem", *client_cert.cert_chain_pems),
        upstream__tls__client_key_file=_pem(tmp_path / "client.key", client_cert.private_key_pem),
        storage__tls__ca_file=ca_file,
        storage__read_timeout_seconds=0.3,
    )
    yield storage, gateway
    await storage.stop()


def _storage_count(gateway: RunningGateway, kind: str, outcome: str) -> float | None:
    return gateway.registry.get_sample_value(
        "kgw_storage_requests_total", {"kind": kind, "outcome": outcome}
    )


async def test_storage_gets_no_upstream_client_certificate_and_its_own_metric(
    storage_and_gateway: tuple[TlsStorage, RunningGateway],
) -> None:
    storage, gateway = storage_and_gateway
    probe = gateway.runtime.gateway.services.get(StorageProbe)
    assert await probe.missing(storage.url + "/bucket/file?sig=x") is True
    upstream_call = await gateway.runtime.upstream.send(
        storage.url, "GET", "/", CIMultiDict({"Host": "localhost"}), None
    )
    upstream_call.release()
    assert storage.client_certificates == [False, True]  # storage: none; the upstream: its own
    assert _storage_count(gateway, "probe", "ok") == 1
    assert _storage_count(gateway, "upload", "ok") == 0


async def test_storage_has_its_own_read_timeout(
    storage_and_gateway: tuple[TlsStorage, RunningGateway],
) -> None:
    """``storage.read_timeout_seconds`` (0.3 s here) ends the probe, not the upstream's 60 s."""
    storage, gateway = storage_and_gateway
    storage.silent = True
    probe = gateway.runtime.gateway.services.get(StorageProbe)
    assert await asyncio.wait_for(probe.missing(storage.url + "/bucket/file"), 5) is False
    assert _storage_count(gateway, "probe", "timeout") == 1
