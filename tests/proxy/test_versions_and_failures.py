"""Version header rules and the gateway's own answers when the upstream fails."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from gateway.cli import newest_known_version
from tests.conftest import StartGateway, StartUpstream
from tests.support.echo_upstream import EchoUpstream

TOO_NEW = str(newest_known_version() + 1)  # one past the newest change in gateway/changes/


@pytest.fixture
async def echo(start_upstream: StartUpstream) -> tuple[EchoUpstream, str]:
    upstream = EchoUpstream()
    return upstream, await start_upstream(upstream.app())


async def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], dict]:
    async with aiohttp.ClientSession() as client, client.get(url, headers=headers) as response:
        return response.status, dict(response.headers), await response.json(content_type=None)


@pytest.mark.parametrize("header", ["x-kinvey-api-version", "X-Kinvey-Api-Version"])
async def test_version_header_in_any_case(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway, header: str
) -> None:
    upstream, url = echo
    gateway = await start_gateway(url, pin=6)
    status, headers, _ = await _get(gateway.url + "/rpc/kid_x/custom/a", {header: "6"})
    assert status == 200
    assert headers["X-Kinvey-API-Version"] == "6"
    assert upstream.header("X-Kinvey-API-Version") == "6"


@pytest.mark.parametrize(
    ("value", "echoed"),
    [
        ("abc", None),
        (TOO_NEW, TOO_NEW),
        ("99", "99"),
        ("-1", "-1"),
        ("3.0", None),
        ("", None),
        ("٣", None),
    ],
)
async def test_bad_versions_are_refused_without_calling_upstream(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway, value: str, echoed: str | None
) -> None:
    upstream, url = echo
    gateway = await start_gateway(url)
    status, headers, body = await _get(
        gateway.url + "/appdata/kid_x", {"X-Kinvey-API-Version": value}
    )
    assert status == 400
    assert body["error"] == "APIVersionNotAvailable"
    assert set(body) == {"error", "description", "debug"}
    assert headers.get("X-Kinvey-API-Version") == echoed
    assert headers["Content-Type"].startswith("application/json")
    assert upstream.seen == []


async def test_missing_header_takes_app_default_and_minimum_is_enforced(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway, tmp_path
) -> None:
    _, url = echo
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "apps:\n  kid_old:\n    default_client_api_version: 6\n    min_client_api_version: 2\n"
    )
    gateway = await start_gateway(url, pin=6, config_file=str(config))
    status, headers, _ = await _get(gateway.url + "/appdata/kid_old/books")
    assert status == 200
    assert headers["X-Kinvey-API-Version"] == "6"
    status, headers, body = await _get(
        gateway.url + "/appdata/kid_old/books", {"X-Kinvey-API-Version": "1"}
    )
    assert (status, body["error"], headers["X-Kinvey-API-Version"]) == (
        400,
        "APIVersionNotAvailable",
        "1",
    )
    # Another app without a policy: the default is the pin.
    status, headers, _ = await _get(gateway.url + "/appdata/kid_other/books")
    assert headers["X-Kinvey-API-Version"] == "6"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_refused_upstream_gives_502(start_gateway: StartGateway) -> None:
    gateway = await start_gateway(f"http://127.0.0.1:{_free_port()}")
    status, headers, body = await _get(
        gateway.url + "/appdata/kid_x/books", {"X-Kinvey-API-Version": "6"}
    )
    assert status == 502
    assert body["error"] == "KinveyInternalErrorRetry"
    assert "connect" in body["debug"]
    assert headers["X-Kinvey-API-Version"] == "6"


async def test_slow_upstream_gives_504_within_the_read_timeout(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    _, url = echo
    gateway = await start_gateway(url, upstream__read_timeout_seconds=0.3)
    status, _, body = await _get(gateway.url + "/fake/slow?s=3", {"X-Kinvey-API-Version": "6"})
    assert status == 504
    assert body["error"] == "KinveyInternalErrorRetry"
    assert "timed out" in body["debug"]


async def test_v0_client_gets_gateway_errors_in_v0_shape_except_version_errors(
    start_gateway: StartGateway,
) -> None:
    gateway = await start_gateway(f"http://127.0.0.1:{_free_port()}")
    status, _, body = await _get(gateway.url + "/appdata/kid_x/b", {"X-Kinvey-API-Version": "0"})
    assert status == 502
    assert set(body) == {"error"}
    assert "retry" in body["error"].lower()


async def test_upstream_dying_mid_body_aborts_the_client_connection(
    echo: tuple[EchoUpstream, str], start_gateway: StartGateway
) -> None:
    _, url = echo
    gateway = await start_gateway(url)
    async with aiohttp.ClientSession() as client:
        with pytest.raises(aiohttp.ClientPayloadError):
            async with client.get(gateway.url + "/fake/dies") as response:
                assert response.status == 200
                await asyncio.wait_for(response.read(), 10)
        # ...and the gateway keeps serving.
        async with client.get(gateway.url + "/appdata/kid_x") as response:
            assert response.status == 200
