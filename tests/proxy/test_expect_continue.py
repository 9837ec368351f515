"""``Expect: 100-continue`` on translated routes, with a raw-socket client that waits for the 100.

The client sends only the head and holds its body back until it reads ``HTTP/1.1 100
Continue`` (as curl, .NET and Java clients do); the bytes on the wire are the assertion. The
gateway follows nginx (``ngx_http_read_client_request_body`` answers the expectation when it
begins reading the body, RFC 9110 §10.1.1): every route whose body the gateway reads or streams
on gets exactly one ``100`` first; a request refused before its body is read gets the final
answer instead, and no ``100``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.changes.support import APP_AUTH, MASTER_AUTH, StartEmulator
from tests.conftest import APP_KEY, RunningGateway, StartGateway

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# A bound on a hung exchange, not an expectation of speed.
READ_BOUND_S = 10.0


async def _head(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_BOUND_S)


async def _exchange(
    gateway: RunningGateway, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[bytes, int, bytes]:
    """Send the head, wait for the first answer head; send the body only after a 100.

    Returns the first head read, the final status and the final body.
    """
    host, port = gateway.runtime.proxy_address  # type: ignore[misc]
    reader, writer = await asyncio.open_connection(host, port)
    try:
        lines = [f"{method} {path} HTTP/1.1", "Host: gw", "Expect: 100-continue"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        first = await _head(reader)
        final = first
        if first == CONTINUE:
            writer.write(body)
            await writer.drain()
            final = await _head(reader)
        status = int(final.split(b" ", 2)[1])
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in final.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        answer = await asyncio.wait_for(reader.readexactly(length), READ_BOUND_S)
        return first, status, answer
    finally:
        writer.close()


@pytest.fixture
def gateway_on_emulator(start_emulator: StartEmulator, start_gateway: StartGateway) -> Any:
    """A gateway pinned to ``pin`` in front of an emulator serving only ``pin``."""

    async def start(pin: int) -> RunningGateway:
        emulator = await start_emulator(min_api_version=pin, max_api_version=pin)
        return await start_gateway(emulator, pin=pin)

    return start


def _json(version: int, auth: str, **extra: str) -> dict[str, str]:
    return {
        "X-Kinvey-API-Version": str(version),
        "Authorization": auth,
        "Content-Type": "application/json",
        **extra,
    }


USERS = f"/user/{APP_KEY}"
THINGS = f"/appdata/{APP_KEY}/expect_things"
TRANSLATED = [
    # (pin, client, method, path, auth, body, final status): each a route a change rewrites.
    pytest.param(6, 3, "POST", USERS, APP_AUTH, {"username": "ann", "password": "p"}, 201,
                 id="signup-v3-login-after-signup"),
    pytest.param(6, 5, "POST", f"{USERS}/login", APP_AUTH, {"username": "x", "password": "p"},
                 401, id="login-v5-body-read-for-second-factor-fields"),
    pytest.param(6, 0, "POST", THINGS, MASTER_AUTH, {"n": 1}, 201, id="insert-v0-streamed"),
    pytest.param(6, 4, "POST", THINGS, MASTER_AUTH, [{"n": 1}], 400,
                 id="array-insert-v4-refused-after-reading"),
    pytest.param(4, 6, "POST", THINGS, MASTER_AUTH, [{"n": 1}, {"n": 2}], 201,
                 id="multi-insert-v6-fanned-out-on-pin4"),
    pytest.param(6, 3, "POST", f"/blob/{APP_KEY}", MASTER_AUTH,
                 {"_filename": "a.txt", "mimeType": "text/plain"}, 201,
                 id="file-metadata-v3-content-type-added"),
    pytest.param(6, 6, "POST", THINGS, MASTER_AUTH, {"n": 3}, 201, id="insert-v6-pass-through"),
]  # fmt: skip


@pytest.mark.parametrize(("pin", "client", "method", "path", "auth", "body", "final"), TRANSLATED)
async def test_the_gateway_answers_100_before_reading_the_body(
    gateway_on_emulator: Any,
    pin: int,
    client: int,
    method: str,
    path: str,
    auth: str,
    body: object,
    final: int,
) -> None:
    gateway = await gateway_on_emulator(pin)
    first, status, answer = await _exchange(
        gateway, method, path, _json(client, auth), json.dumps(body).encode()
    )
    assert first == CONTINUE
    assert status == final, answer


async def test_an_old_upload_to_a_gateway_file_url_gets_100(
    gateway_on_emulator: Any,
) -> None:
    gateway = await gateway_on_emulator(6)
    located = await _exchange(
        gateway, "GET", f"/blob/{APP_KEY}/upload-loc/report.txt", _json(1, MASTER_AUTH), b""
    )
    # A GET with no body still had the head answered: the 100 is only for bodies.
    assert located[0].startswith(b"HTTP/1.1 200")
    uri = json.loads(located[2])["URI"]
    target = urlsplit(uri)
    assert target.path.startswith("/_gateway/files/")
    first, status, _ = await _exchange(
        gateway, "PUT", f"{target.path}?{target.query}", {"Content-Type": "text/plain"}, b"hello"
    )
    assert first == CONTINUE
    assert status == 200


async def test_a_request_refused_before_its_body_is_read_gets_no_100(
    gateway_on_emulator: Any,
) -> None:
    gateway = await gateway_on_emulator(6)
    first, _, answer = await _exchange(gateway, "POST", THINGS, _json(99, MASTER_AUTH), b"{}")
    assert first.startswith(b"HTTP/1.1 400 ")
    assert json.loads(answer)["error"] == "APIVersionNotAvailable"
