"""Pass-through fidelity: what the app sends reaches the upstream, and what it answers, the app."""

from __future__ import annotations

import asyncio
import gzip
import json

import aiohttp
import pytest

from tests.conftest import RunningGateway, StartGateway, StartUpstream
from tests.support.echo_upstream import EchoUpstream


@pytest.fixture
async def echo(start_upstream: StartUpstream) -> tuple[EchoUpstream, str]:
    upstream = EchoUpstream()
    return upstream, await start_upstream(upstream.app())


async def _exchange(gateway: RunningGateway, request: bytes) -> bytes:
    """``request`` as raw bytes on a new connection; what the gateway answers until it closes."""
    reader, writer = await asyncio.open_connection(*gateway.runtime.proxy_address)  # type: ignore[misc]
    writer.write(request)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return raw


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_every_method_and_body_is_forwarded(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway, method: str
) -> None:
    upstream, url = echo
    gateway = await start_gateway(url)
    body = b'{"a": 1}' if method in {"POST", "PUT", "PATCH"} else b""
    async with (
        aiohttp.ClientSession() as client,
        client.request(
            method,
            gateway.url + "/rpc/kid_x/custom/thing",
            data=body,
            headers={"X-Kinvey-API-Version": "6"},
        ) as response,
    ):
        assert response.status == 200
        assert (await response.json())["method"] == method
    assert upstream.seen[-1].method == method
    assert upstream.seen[-1].body == body


async def test_percent_encoding_of_path_and_query_is_kept_byte_for_byte(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    upstream, url = echo
    gateway = await start_gateway(url)
    raw = "/appdata/kid_x/books/a%2Fb%20c?query=%7B%22t%22%3A%22x%20y%22%7D&sort=%7B%7D&z=%2b+"
    async with (
        aiohttp.ClientSession() as client,
        client.get(aiohttp.client.URL(gateway.url + raw, encoded=True)) as response,
    ):
        assert response.status == 200
    assert upstream.seen[-1].raw_path == raw


async def test_headers_host_forwarded_and_version_pinned(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    upstream, url = echo
    gateway = await start_gateway(url, pin=5)
    headers = {
        "X-Kinvey-API-Version": "5",
        "X-Kinvey-Client-App-Version": "2.1",
        "X-Kinvey-Custom-Request-Properties": "{}",
        "Connection": "keep-alive, X-Drop-Me",
        "X-Drop-Me": "hop",
        "TE": "trailers",
        "Host": "evil.example:1234",
    }
    async with (
        aiohttp.ClientSession() as client,
        client.get(gateway.url + "/appdata/kid_x/books", headers=headers) as response,
    ):
        assert response.status == 200
        assert response.headers["X-Kinvey-API-Version"] == "5"
        assert response.headers.get("X-Kinvey-Request-Id")
    assert upstream.header("Host") == url.removeprefix("http://")
    assert upstream.header("X-Kinvey-API-Version") == "5"
    assert upstream.header("X-Kinvey-Client-App-Version") == "2.1"
    assert upstream.header("X-Kinvey-Custom-Request-Properties") == "{}"
    assert upstream.header("X-Drop-Me") is None
    assert upstream.header("TE") is None
    assert upstream.header("X-Forwarded-For") == "127.0.0.1"
    assert upstream.header("X-Forwarded-Proto") == "http"
    assert upstream.header("X-Forwarded-Host") == "evil.example:1234"


async def test_repeated_set_cookie_kept_and_response_hop_headers_dropped(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    _, url = echo
    gateway = await start_gateway(url)
    async with (
        aiohttp.ClientSession() as client,
        client.get(gateway.url + "/fake/cookies") as response,
    ):
        assert response.headers.getall("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
        assert "X-Secret-Hop" not in response.headers
        assert "Keep-Alive" not in response.headers


async def test_gzip_bytes_and_encoding_pass_untouched(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    _, url = echo
    gateway = await start_gateway(url)
    expected = gzip.compress(json.dumps({"hello": "world" * 50}).encode(), mtime=0)
    async with (
        aiohttp.ClientSession(auto_decompress=False) as client,
        client.get(gateway.url + "/fake/gzip", headers={"Accept-Encoding": "gzip"}) as response,
    ):
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Content-Length"] == str(len(expected))
        assert await response.read() == expected


async def test_no_accept_encoding_is_invented(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    upstream, url = echo
    gateway = await start_gateway(url)
    await _exchange(gateway, b"GET /appdata/kid_x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert upstream.header("Accept-Encoding") is None
    assert upstream.header("User-Agent") is None


async def test_204_and_head_framing(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    _, url = echo
    gateway = await start_gateway(url)
    raw = await _exchange(
        gateway,
        b"DELETE /fake/204 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /appdata/kid_x HTTP/1.1\r\n"
        b"Host: x\r\nConnection: close\r\n\r\n",
    )
    first, _, rest = raw.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 204")
    assert b"transfer-encoding" not in first.lower()
    assert b"content-type" not in first.lower()
    # The HEAD answer follows directly: the 204 carried no body bytes, not even a chunk.
    assert rest.startswith(b"HTTP/1.1 200")
    head, _, body = rest.partition(b"\r\n\r\n")
    assert b"content-length" in head.lower()
    assert body == b""


async def test_redirects_are_relayed_not_followed(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    _, url = echo
    gateway = await start_gateway(url)
    async with (
        aiohttp.ClientSession() as client,
        client.get(gateway.url + "/fake/redirect", allow_redirects=False) as response,
    ):
        assert response.status == 302
        assert response.headers["Location"] == "http://127.0.0.2:9/elsewhere"


async def test_absolute_form_target_cannot_pick_another_host(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    upstream, url = echo
    gateway = await start_gateway(url)
    raw = await _exchange(
        gateway,
        b"GET http://127.0.0.3:1/appdata/kid_x/books?x=1 HTTP/1.1\r\n"
        b"Host: 127.0.0.3:1\r\nConnection: close\r\n\r\n",
    )
    assert raw.startswith(b"HTTP/1.1 200")
    assert upstream.seen[-1].raw_path == "/appdata/kid_x/books?x=1"
    assert upstream.header("Host") == url.removeprefix("http://")
