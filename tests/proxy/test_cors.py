"""CORS: a cross-origin app can read the answers the gateway makes itself, and preflights are
the upstream's business whatever the app's default client version (issue 14).

Without ``Access-Control-Allow-Origin`` a browser hides an answer from the page (the 3.x HTML5
SDK reports ``Error [object ProgressEvent]``). A preflight never carries
``X-Kinvey-API-Version``, so applying the app's default version to it (0 for apps that still
run the 2012 library) refused browser uploads with a 400 that had no CORS headers.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from multidict import CIMultiDict

from tests.changes.support import APP_AUTH, MASTER_AUTH, StartEmulator
from tests.conftest import APP_KEY, StartGateway, StartUpstream
from tests.support.echo_upstream import EchoUpstream
from tests.support.processes import free_port

ORIGIN = "http://app.example:8100"
REQUEST_HEADERS = "Access-Control-Request-Headers"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    REQUEST_HEADERS: "authorization,content-type,x-kinvey-api-version",
}


@pytest.fixture
async def echo(start_upstream: StartUpstream) -> tuple[EchoUpstream, str]:
    upstream = EchoUpstream()
    return upstream, await start_upstream(upstream.app())


async def _call(
    method: str, url: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, CIMultiDict[str], bytes]:
    async with (
        aiohttp.ClientSession() as client,
        client.request(method, url, headers={"Origin": ORIGIN, **headers}, data=body) as answer,
    ):
        return answer.status, answer.headers.copy(), await answer.read()


def _readable_cross_origin(headers: CIMultiDict[str]) -> None:
    assert headers["Access-Control-Allow-Origin"] == "*"
    exposed = headers["Access-Control-Expose-Headers"]
    assert "X-Kinvey-Request-Id" in exposed and "X-Kinvey-API-Version" in exposed


@pytest.mark.parametrize(
    ("version", "echoed"), [("99", "99"), ("-1", "-1"), ("abc", None)], ids=["99", "-1", "abc"]
)
async def test_a_refused_version_is_readable_cross_origin(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway, version: str, echoed: str | None
) -> None:
    upstream, url = echo
    gateway = await start_gateway(url)
    status, headers, _ = await _call(
        "GET", f"{gateway.url}/appdata/{APP_KEY}", {"X-Kinvey-API-Version": version}
    )
    assert status == 400 and upstream.seen == []
    assert headers.get("X-Kinvey-API-Version") == echoed
    _readable_cross_origin(headers)


@pytest.mark.parametrize(
    ("path", "client", "body", "status"),
    [
        # Over the buffering limit on a route the gateway must read (a v3 signup on pin 6).
        (f"/user/{APP_KEY}", "3", b'{"username": "' + b"u" * 2000 + b'"}', 413),
        # Refused by a version change: MFA is v6 only.
        (f"/user/{APP_KEY}/mfa/challenge", "5", b"{}", 400),
    ],
    ids=["body-too-large", "feature-unavailable"],
)
async def test_a_request_the_gateway_refuses_is_readable_cross_origin(
    echo: tuple[EchoUpstream, str],
    start_gateway: StartGateway,
    path: str,
    client: str,
    body: bytes,
    status: int,
) -> None:
    upstream, url = echo
    gateway = await start_gateway(url, pin=6, limits__max_buffered_body_bytes=1024)
    headers = {"X-Kinvey-API-Version": client, "Authorization": APP_AUTH}
    answered, got, _ = await _call("POST", gateway.url + path, headers, body)
    assert answered == status and upstream.seen == []
    _readable_cross_origin(got)


async def test_an_overloaded_answer_is_readable_cross_origin(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    _, url = echo
    gateway = await start_gateway(url, limits__max_concurrent_requests=1)
    busy = asyncio.create_task(_call("GET", f"{gateway.url}/fake/slow?s=2", {}))
    for _ in range(200):  # bounded wait until the slow request holds the only slot
        if gateway.runtime.gateway.in_flight == 1:
            break
        await asyncio.sleep(0.01)
    status, headers, _ = await _call("GET", f"{gateway.url}/appdata/{APP_KEY}", {})
    assert status == 503
    _readable_cross_origin(headers)
    await busy


async def test_upstream_down_and_slow_are_readable_cross_origin(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    down = await start_gateway(f"http://127.0.0.1:{free_port()}")
    # The preflight is allowed (a failed one would hide the 502 below from the app) ...
    status, headers, _ = await _call("OPTIONS", f"{down.url}/appdata/{APP_KEY}/books", PREFLIGHT)
    assert status == 204
    assert headers["Access-Control-Allow-Headers"] == PREFLIGHT[REQUEST_HEADERS]
    # ... and the actual request gets the gateway's 502, readable.
    status, headers, _ = await _call("GET", f"{down.url}/appdata/{APP_KEY}/books", {})
    assert status == 502
    _readable_cross_origin(headers)
    _, url = echo
    slow = await start_gateway(url, upstream__read_timeout_seconds=0.3)
    status, headers, _ = await _call("GET", f"{slow.url}/fake/slow?s=3", {})
    assert status == 504
    _readable_cross_origin(headers)


async def test_gateway_file_urls_are_readable_and_preflighted_cross_origin(
    start_emulator: StartEmulator, start_gateway: StartGateway
) -> None:
    gateway = await start_gateway(await start_emulator(min_api_version=6), pin=6)
    old = {"X-Kinvey-API-Version": "1", "Authorization": MASTER_AUTH}
    _, _, body = await _call("GET", f"{gateway.url}/blob/{APP_KEY}/upload-loc/a.txt", old)
    uri = json.loads(body)["URI"]
    assert "/_gateway/files/" in uri
    put = {**PREFLIGHT, "Access-Control-Request-Method": "PUT"}
    status, headers, _ = await _call("OPTIONS", uri, put)
    assert status == 204
    assert "PUT" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"] == PREFLIGHT[REQUEST_HEADERS]
    _readable_cross_origin(headers)
    status, headers, _ = await _call("PUT", uri, {"Content-Type": "text/plain"}, b"bytes")
    assert status == 200
    _readable_cross_origin(headers)
    status, headers, _ = await _call("PUT", uri + "x", {"Content-Type": "text/plain"}, b"bytes")
    assert status == 403
    _readable_cross_origin(headers)


async def test_a_malformed_request_is_readable_cross_origin(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    _, url = echo
    gateway = await start_gateway(url)
    host, port = gateway.runtime.proxy_address  # type: ignore[misc]
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /appdata/kid HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.split(b"\r\n", 1)[0].endswith(b" 400 Bad Request")
    assert b"Access-Control-Allow-Origin: *" in answer


@pytest.mark.parametrize("pin", [3, 4, 5, 6])
@pytest.mark.parametrize("default", [None, 0, 1, 2])
async def test_preflights_reach_the_upstream_whatever_the_default_version(
    echo: tuple[EchoUpstream, str],
    start_gateway: StartGateway,
    tmp_path: Path,
    pin: int,
    default: int | None,
) -> None:
    upstream, url = echo
    config = tmp_path / "gateway.yaml"
    policy = f"    default_client_api_version: {default}\n" if default is not None else ""
    config.write_text(f"apps:\n  {APP_KEY}:\n    min_client_api_version: 0\n{policy}")
    gateway = await start_gateway(url, pin=pin, config_file=str(config))
    for path in (f"/blob/{APP_KEY}", f"/appdata/{APP_KEY}/things", f"/user/{APP_KEY}/login"):
        status, _, body = await _call("OPTIONS", gateway.url + path, PREFLIGHT)
        assert status == 200, body
        assert json.loads(body)["method"] == "OPTIONS"
        seen = upstream.seen[-1]
        assert (seen.method, seen.raw_path) == ("OPTIONS", path)
        sent = dict(seen.headers)
        assert sent["Access-Control-Request-Method"] == "POST"
        assert sent["Origin"] == ORIGIN


async def test_a_preflight_gets_the_emulators_cors_answer_through_the_gateway(
    start_emulator: StartEmulator, start_gateway: StartGateway, tmp_path: Path
) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(f"apps:\n  {APP_KEY}:\n    default_client_api_version: 0\n")
    gateway = await start_gateway(
        await start_emulator(min_api_version=6), pin=6, config_file=str(config)
    )
    status, headers, body = await _call("OPTIONS", f"{gateway.url}/blob/{APP_KEY}", PREFLIGHT)
    assert status == 204 and body == b""
    assert headers["Access-Control-Allow-Headers"] == PREFLIGHT[REQUEST_HEADERS]
    assert "X-Kinvey-API-Version" not in headers
    _readable_cross_origin(headers)
