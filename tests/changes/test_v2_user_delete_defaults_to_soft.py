"""v2 UserDeleteDefaultsToSoft (with v1 UserDeleteCanBeSoft below it): user delete flags.

The mapping of every old client's flags onto an upstream at 3..6, and the real outcome on the
emulator (the v1 change alone, v0 → v1, is tested in test_v1_user_delete_can_be_soft.py).
"""

from __future__ import annotations

import pytest

from gateway.changes import BUNDLE
from tests.changes.support import MASTER_AUTH, StartGatewayOnEmulator, answering, make_request, run
from tests.conftest import APP_KEY
from tests.support.kinvey_client import KinveyClient


@pytest.mark.parametrize(
    ("client", "query", "sent"),
    [
        (0, "", "?hard=true"),
        (0, "?soft=true", "?hard=true"),  # v0 knew no soft delete
        (0, "?hard=false", "?hard=true"),
        (1, "", "?hard=true"),
        (1, "?soft=true", ""),  # v1's soft delete is v2's plain delete
        (1, "?soft=TRUE", ""),
        (1, "?soft=false", "?hard=true"),
        (1, "?hard=true", "?hard=true"),  # v1 ignored hard: still a removal
        (1, "?soft=true&hard=true", ""),  # ... and a soft delete stays soft
        (1, "?_=123&soft=true&x=%2F", "?_=123&x=%2F"),  # other bytes are kept
        (0, "?_=123", "?_=123&hard=true"),
    ],
)
@pytest.mark.parametrize("pin", [3, 6])
async def test_flags_are_mapped_to_the_upstream_meaning(
    client: int, query: str, sent: str, pin: int
) -> None:
    upstream = answering(204)
    response = await run(make_request("DELETE", f"/user/k/u1{query}", client, pin), upstream)
    assert response.status == 204
    assert upstream.seen[0].raw_path == f"/user/k/u1{sent}"


def test_v2_and_newer_clients_are_not_translated() -> None:
    for client in range(2, 7):
        assert (
            "UserDeleteDefaultsToSoft"
            not in BUNDLE.plan(client, 6, "DELETE", "user.entity").change_names
        )


async def test_other_user_routes_are_left_alone() -> None:
    upstream = answering(200, {})
    await run(make_request("GET", "/user/k/u1?soft=true", 1, 6), upstream)
    await run(make_request("DELETE", "/user/k/_me?soft=true", 1, 6), upstream)
    assert [r.raw_path for r in upstream.seen] == ["/user/k/u1?soft=true", "/user/k/_me?soft=true"]


async def _new_user(master: KinveyClient, name: str) -> str:
    reply = await master.call("POST", f"/user/{APP_KEY}", body={"username": name, "password": "pw"})
    assert reply.status == 201, reply.raw
    return str(reply.json["_id"])


async def _state(master: KinveyClient, user_id: str) -> str:
    reply = await master.call("GET", f"/user/{APP_KEY}/{user_id}")
    if reply.status == 404:
        return "removed"
    assert reply.status == 200, reply.raw
    status = reply.json["_kmd"].get("status", {}).get("val")
    return "disabled" if status == "disabled" else "active"


@pytest.mark.parametrize(
    ("client", "query", "outcome"),
    [
        (0, "", "removed"),
        (0, "?soft=true", "removed"),
        (1, "", "removed"),
        (1, "?soft=true", "disabled"),
        (1, "?hard=true", "removed"),
        (2, "", "disabled"),
        (2, "?hard=true", "removed"),
    ],
)
async def test_end_to_end_on_a_v6_emulator(
    start_gateway_on_emulator: StartGatewayOnEmulator, client: int, query: str, outcome: str
) -> None:
    gateway = await start_gateway_on_emulator(6)
    master = KinveyClient(gateway.url, 6, MASTER_AUTH)
    user_id = await _new_user(master, "victim")
    reply = await KinveyClient(gateway.url, client, MASTER_AUTH).call(
        "DELETE", f"/user/{APP_KEY}/{user_id}{query}"
    )
    assert (reply.status, reply.raw) == (204, b"")
    assert await _state(master, user_id) == outcome
