"""v3 FilesApiExists: clients at 2 or below cannot use the Files API."""

from __future__ import annotations

import pytest

from tests.changes.support import (
    MASTER_AUTH,
    StartGatewayOnEmulator,
    answering,
    assert_untouched,
    make_request,
    metrics_of,
    run,
)
from tests.conftest import APP_KEY
from tests.support.kinvey_client import KinveyClient

CALLS = [
    ("POST", "/blob/k"),
    ("GET", "/blob/k?query=%7B%7D"),
    ("GET", "/blob/k/f1"),
    ("PUT", "/blob/k/f1"),
    ("DELETE", "/blob/k/f1"),
    ("GET", "/blob/k/f1/"),
]


@pytest.mark.parametrize(("method", "path"), CALLS)
@pytest.mark.parametrize("client", [1, 2])
@pytest.mark.parametrize("pin", [3, 6])
async def test_older_clients_are_refused_without_calling_upstream(
    method: str, path: str, client: int, pin: int
) -> None:
    upstream = answering(200, {})
    request = make_request(method, path, client, pin, body=b"{}")
    response = await run(request, upstream)
    assert (response.status, response.json["error"]) == (400, "FeatureUnavailable")
    assert upstream.seen == []
    assert metrics_of(request).refused == [("FilesApiExists", "FeatureUnavailable")]


async def test_v0_gets_the_refusal_in_its_shape() -> None:
    response = await run(make_request("GET", "/blob/k/f1", 0, 6), answering(200, {}))
    assert (response.status, set(response.json)) == (400, {"error"})


@pytest.mark.parametrize(("method", "path"), CALLS)
async def test_v3_and_newer_clients_reach_the_upstream(method: str, path: str) -> None:
    for client in (3, 4, 6):
        upstream = answering(200, {"_id": "f1"})
        headers = {"X-Kinvey-Content-Type": "a/b"}
        await run(make_request(method, path, client, 6, body=b"{}", headers=headers), upstream)
        assert len(upstream.seen) == 1


async def test_end_to_end_a_v2_client_on_a_v6_emulator(
    start_gateway_on_emulator: StartGatewayOnEmulator,
) -> None:
    gateway = await start_gateway_on_emulator(6)
    reply = await KinveyClient(gateway.url, 2, MASTER_AUTH).call(
        "POST", f"/blob/{APP_KEY}", body={"_filename": "a"}
    )
    assert (reply.status, reply.json["error"]) == (400, "FeatureUnavailable")
    assert reply.headers["X-Kinvey-API-Version"] == "2"
    reply = await KinveyClient(gateway.url, 3, MASTER_AUTH).call(
        "POST", f"/blob/{APP_KEY}", body={"_filename": "a"}
    )
    assert reply.status == 201


async def test_other_apis_pass_for_old_clients() -> None:
    await assert_untouched("GET", f"/appdata/{APP_KEY}/books", 2, 3, answer=[])
