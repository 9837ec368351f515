"""The access log tells the truth about each answer, checked against the bytes on the wire.

A real gateway in front of the real emulator (pinned to the emulator's only version), driven
by a raw-socket client: for every answer, gateway-made or relayed or translated, the logged
``status`` and ``response_bytes`` equal what the client received; a signup the gateway
completes with a login logs the signup's ``upstream_status``; a storage capability that a
rewritten ``Location`` sends through the gateway never reaches the log.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest

from gateway.observability.access_log import AccessLogger
from tests.conftest import APP_KEY, APP_SECRET, RunningGateway, StartGateway
from tests.support.background import split_responses

APP_AUTH = "Basic " + base64.b64encode(f"{APP_KEY}:{APP_SECRET}".encode()).decode()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _dechunk(body: bytes) -> bytes:
    out, rest = b"", body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


async def _raw(gateway: RunningGateway, method: str, path: str, **headers: str) -> Answer:
    """One request on its own connection; the answer read to EOF and framed by hand."""
    body = headers.pop("body", "").encode()
    assert gateway.runtime.proxy_address
    host, port = gateway.runtime.proxy_address
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, wire_body = raw.partition(b"\r\n\r\n")
    [(status, parsed_headers, _)] = split_responses(head + b"\r\n\r\n")
    if "chunked" in parsed_headers.get("transfer-encoding", ""):
        wire_body = _dechunk(wire_body)
    return Answer(status, parsed_headers, b"" if method == "HEAD" else wire_body)


@pytest.fixture
async def gateway(
    start_emulator: Any, start_gateway: StartGateway
) -> tuple[RunningGateway, io.StringIO]:
    running = await start_gateway(await start_emulator(min_api_version=6, max_api_version=6))
    log = io.StringIO()
    running.runtime.gateway.access_log = AccessLogger(enabled=True, stream=log, flush_interval=60)
    return running, log


def _lines(gateway: RunningGateway, log: io.StringIO) -> list[dict[str, Any]]:
    gateway.runtime.gateway.access_log.flush()
    return [json.loads(line) for line in log.getvalue().splitlines()]


async def test_logged_bytes_are_the_bytes_the_client_received(
    gateway: tuple[RunningGateway, io.StringIO],
) -> None:
    running, log = gateway
    handshake = f"/appdata/{APP_KEY}"
    answers = [
        # gateway-made: unknown version, and the same for HEAD (no body on the wire)
        await _raw(running, "GET", handshake, X_Kinvey_API_Version="99", Authorization=APP_AUTH),
        await _raw(running, "HEAD", handshake, X_Kinvey_API_Version="99", Authorization=APP_AUTH),
        # gateway-made: a request target the gateway refuses
        await _raw(running, "GET", "http://elsewhere.example/x", Authorization=APP_AUTH),
        # relayed as it is
        await _raw(running, "GET", handshake, X_Kinvey_API_Version="6", Authorization=APP_AUTH),
        # translated: v0's error shape for a missing entity
        await _raw(
            running,
            "GET",
            f"{handshake}/books/nope",
            X_Kinvey_API_Version="0",
            Authorization=APP_AUTH,
        ),
    ]
    lines = _lines(running, log)
    assert [(a.status, len(a.body)) for a in answers] == [
        (line["status"], line["response_bytes"]) for line in lines
    ]
    made = answers[0]
    assert made.status == 400 and len(made.body) > 100, made
    assert answers[1].headers["content-length"] == str(len(made.body))
    assert made.headers["server"] == "kinvey-gateway"


async def test_a_completed_signup_logs_the_signups_upstream_status(
    gateway: tuple[RunningGateway, io.StringIO],
) -> None:
    running, log = gateway
    answer = await _raw(
        running, "POST", f"/user/{APP_KEY}", X_Kinvey_API_Version="1", Authorization=APP_AUTH,
        Content_Type="application/json", body='{"username": "ada", "password": "pw"}',
    )  # fmt: skip
    assert answer.status == 201 and json.loads(answer.body)["_kmd"]["authtoken"]
    [line] = _lines(running, log)
    assert (line["status"], line["upstream_status"]) == (201, 201)
    assert line["response_bytes"] == len(answer.body)
    assert "SignupReturnsNoAuthToken" in line["changes"]


async def test_a_storage_url_the_gateway_redirects_to_itself_is_not_logged(
    gateway: tuple[RunningGateway, io.StringIO],
) -> None:
    running, log = gateway
    auth = {"X_Kinvey_API_Version": "1", "Authorization": APP_AUTH}
    await _raw(
        running, "POST", f"/user/{APP_KEY}", **auth, Content_Type="application/json",
        body='{"username": "bo", "password": "pw"}',
    )  # fmt: skip
    user = {"X_Kinvey_API_Version": "1", "Authorization": "Basic Ym86cHc="}  # bo:pw
    upload = await _raw(running, "GET", f"/blob/{APP_KEY}/upload-loc/a.txt", **user)
    assert upload.status == 200, upload
    upload_url = json.loads(upload.body)["URI"]
    put_path = upload_url.split("://", 1)[1].split("/", 1)[1]
    stored = await _raw(running, "PUT", "/" + put_path, body="hello", Content_Type="text/plain")
    assert stored.status < 300, stored
    redirect = await _raw(running, "GET", f"/blob/{APP_KEY}/download-loc/a.txt", **user)
    assert redirect.status == 302, redirect
    location = redirect.headers["location"]
    assert location.startswith(running.url), "the Location leads the client to the gateway"
    storage_path = "/" + location.split("://", 1)[1].split("/", 1)[1]
    download = await _raw(running, "GET", storage_path)
    assert (download.status, download.body) == (200, b"hello")
    logged = log.getvalue()
    for capability in (storage_path.rsplit("/", 1)[1], put_path.rsplit("/", 1)[1]):
        assert capability not in logged
    assert _lines(running, log)[-1]["path"] == "/_storage/[redacted]"
