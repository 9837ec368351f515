"""v2 DataStoreDeletesReturnCount: v0/v1 clients get an empty 204 for data store deletes."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.changes.support import (
    MASTER_AUTH,
    StartGatewayOnEmulator,
    answering,
    assert_untouched,
    make_request,
    run,
)
from tests.conftest import APP_KEY
from tests.support.kinvey_client import KinveyClient


@pytest.mark.parametrize("path", ["/appdata/k/books/b1", "/appdata/k/books?query=%7B%7D"])
@pytest.mark.parametrize("client", [0, 1])
@pytest.mark.parametrize("pin", [3, 6])
async def test_a_count_becomes_an_empty_204(path: str, client: int, pin: int) -> None:
    upstream = answering(200, {"count": 3}, {"X-Kinvey-Request-Id": "r"})
    response = await run(make_request("DELETE", path, client, pin), upstream)
    assert (response.status, response.body) == (204, b"")
    assert "Content-Type" not in response.headers
    assert "Content-Length" not in response.headers
    assert response.headers["X-Kinvey-Request-Id"] == "r"


@pytest.mark.parametrize("client", [2, 3, 6])
async def test_v2_and_newer_clients_keep_the_count(client: int) -> None:
    response = await run(
        make_request("DELETE", "/appdata/k/b/1", client, 6), answering(200, {"count": 1})
    )
    assert (response.status, response.json) == (200, {"count": 1})


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"error": "EntityNotFound", "description": "x", "debug": ""}),
        (200, {"count": 1, "other": True}),
        (200, [1]),
        (200, b"not json"),
    ],
)
async def test_other_answers_pass_unchanged(status: int, body: Any) -> None:
    response = await run(make_request("DELETE", "/appdata/k/b/1", 1, 6), answering(status, body))
    assert response.status == status
    assert response.body


async def test_other_routes_and_methods_keep_their_count() -> None:
    for method, path in [
        ("GET", "/appdata/k/b/_count"),
        ("DELETE", "/push/k/device"),
        ("DELETE", "/user/k/u"),
    ]:
        response = await run(make_request(method, path, 1, 6), answering(200, {"count": 1}))
        assert response.status == 200, path


async def test_end_to_end_raw_framing_through_a_real_gateway(
    start_gateway_on_emulator: StartGatewayOnEmulator,
) -> None:
    gateway = await start_gateway_on_emulator(6)
    v6 = KinveyClient(gateway.url, 6, MASTER_AUTH)
    for book in ("b1", "b2", "b3"):
        reply = await v6.call("POST", f"/appdata/{APP_KEY}/books", body={"_id": book})
        assert reply.status == 201
    v1 = KinveyClient(gateway.url, 1, MASTER_AUTH)
    reply = await v1.call("DELETE", f"/appdata/{APP_KEY}/books/b1")
    assert (reply.status, reply.raw) == (204, b"")
    assert "Content-Type" not in reply.headers and "Content-Length" not in reply.headers
    assert reply.headers["X-Kinvey-API-Version"] == "1"
    reply = await v1.call("DELETE", f"/appdata/{APP_KEY}/books?query=%7B%22_id%22%3A%22b2%22%7D")
    assert (reply.status, reply.raw) == (204, b"")
    reply = await v6.call("DELETE", f"/appdata/{APP_KEY}/books/b3")
    assert (reply.status, reply.json) == (200, {"count": 1})
    # Two deletes on one keep-alive connection: a stray body would corrupt the second answer.
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with session.delete(
                f"{gateway.url}/appdata/{APP_KEY}/books?query=%7B%7D",
                headers={"X-Kinvey-API-Version": "0", "Authorization": v1.auth or ""},
            ) as response:
                assert (response.status, await response.read()) == (204, b"")


async def test_a_count_with_another_success_status_passes_unchanged() -> None:
    """Only v2's ``200 {"count": n}`` was the change; any other 2xx is relayed as it is."""
    await assert_untouched(
        "DELETE", f"/appdata/{APP_KEY}/books/b1", 1, 2, status=202, answer={"count": 1}
    )
