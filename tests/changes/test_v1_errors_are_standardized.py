"""v1 ErrorsAreStandardized: every error a v0 client gets is ``{"error": <description>}``."""

from __future__ import annotations

import pytest

from gateway.changes import BUNDLE
from gateway.changes.v1_errors_are_standardized import ErrorsAreStandardized
from gateway.kinvey.errors import KinveyError
from gateway.versioning import ANY_ROUTE, RequestInfo, ResponseInfo, VersionChange, older
from gateway.versioning.bundle import VersionBundle
from gateway.versioning.pipeline import run_plan
from tests.changes.support import (
    MASTER_AUTH,
    StartGatewayOnEmulator,
    answering,
    make_request,
    plan_for,
    run,
)
from tests.conftest import APP_KEY
from tests.support.kinvey_client import KinveyClient


def test_it_is_the_outermost_v1_layer_so_every_v1_gate_error_is_flattened_too() -> None:
    # Within a version, layers keep file-name order; a v1 gate in an outer layer would
    # answer before this change could shape its error.
    first_v1 = next(c for c in BUNDLE.changes if c.introduced_in == 1)
    assert first_v1 is ErrorsAreStandardized


@pytest.mark.parametrize("route", ["/appdata/k/c/1", "/rpc/k/custom/x", "/unknown/path"])
async def test_a_v1_error_body_becomes_the_v0_shape_with_the_same_status(route: str) -> None:
    upstream = answering(
        404,
        {"error": "EntityNotFound", "description": "Not here", "debug": "id 1"},
        {"X-Kinvey-Request-Id": "r1"},
    )
    response = await run(make_request("GET", route, 0, 6), upstream)
    assert response.status == 404
    assert response.json == {"error": "Not here"}
    assert response.headers["X-Kinvey-Request-Id"] == "r1"
    assert response.headers["Content-Type"].startswith("application/json")


async def test_an_empty_description_falls_back_to_the_standard_one() -> None:
    upstream = answering(401, {"error": "InvalidCredentials", "description": "", "debug": ""})
    response = await run(make_request("GET", "/appdata/k/c", 0, 3), upstream)
    assert response.json["error"].startswith("Invalid credentials")


async def test_v1_and_newer_clients_keep_the_structured_body() -> None:
    body = {"error": "EntityNotFound", "description": "Not here", "debug": ""}
    for client in range(1, 7):
        response = await run(make_request("GET", "/appdata/k/c/1", client, 6), answering(404, body))
        assert response.json == body


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("text/html", b"<html>bad gateway</html>"),
        ("application/json", b'{"message": "not a kinvey error"}'),
        ("application/json", b"[1, 2]"),
        ("application/json", b""),
    ],
)
async def test_bodies_that_are_not_kinvey_errors_pass_byte_for_byte(
    content_type: str, raw: bytes
) -> None:
    upstream = answering(500, raw, {"Content-Type": content_type})
    response = await run(make_request("GET", "/appdata/k/c", 0, 6), upstream)
    assert (response.status, response.body) == (500, raw)


async def test_version_refusals_stay_structured_for_v0() -> None:
    body = {"error": "APIVersionNotAvailable", "description": "no", "debug": ""}
    response = await run(make_request("GET", "/appdata/k", 0, 6), answering(400, body))
    assert response.json == body


async def test_success_responses_are_not_read() -> None:
    async def streaming_upstream(_: RequestInfo) -> ResponseInfo:
        return ResponseInfo(200, body=None, loader=_never_loaded)

    request = make_request("GET", "/appdata/k/c/1", 0, 6)
    response = await run_plan(plan_for(request), request, streaming_upstream)
    assert response.body is None  # never loaded


async def _never_loaded() -> bytes:
    raise AssertionError("a 2xx body was buffered for the v0 error change")


class RefusesDeletesAtTwo(VersionChange):
    """A stub gate in an inner layer."""

    introduced_in = 2

    @older.request("DELETE", routes={ANY_ROUTE})
    def refuse(request: RequestInfo) -> None:
        raise KinveyError("FeatureUnavailable", debug="stub gate")


async def test_errors_raised_by_inner_layers_reach_v0_flattened() -> None:
    bundle = VersionBundle([ErrorsAreStandardized, RefusesDeletesAtTwo])
    request = make_request("DELETE", "/appdata/k/c/1", 0, 3)
    upstream = answering(204)
    response = await run_plan(bundle.plan(0, 3, "DELETE", "appdata.entity"), request, upstream)
    assert response.status == 400
    assert response.json == {"error": "Requested functionality is unavailable in this API version"}
    assert upstream.seen == []


async def test_end_to_end_errors_from_the_emulator_and_the_gateway(
    start_gateway_on_emulator: StartGatewayOnEmulator,
) -> None:
    gateway = await start_gateway_on_emulator(3)
    v0 = KinveyClient(gateway.url, 0, MASTER_AUTH)
    reply = await v0.call("GET", f"/appdata/{APP_KEY}/books/missing")
    assert reply.status == 404
    assert reply.json == {"error": "This entity not found in the collection"}
    assert reply.headers["X-Kinvey-API-Version"] == "0"
    assert reply.headers["X-Kinvey-Request-Id"]
    v3 = KinveyClient(gateway.url, 3, MASTER_AUTH)
    reply = await v3.call("GET", f"/appdata/{APP_KEY}/books/missing")
    assert reply.json["error"] == "EntityNotFound"
    # A gateway refusal of the version header stays structured, even for v0 (spec §1).
    reply = await KinveyClient(gateway.url, None, MASTER_AUTH).call(
        "GET", f"/appdata/{APP_KEY}", headers={"X-Kinvey-API-Version": "9"}
    )
    assert reply.json["error"] == "APIVersionNotAvailable"


def test_a_kinvey_error_value_has_the_v0_shape_too() -> None:
    # The gateway's own pre-pipeline answers (413 ...) use this; it must agree with the change.
    assert KinveyError("BadRequest", "too big").body(0) == {"error": "too big"}
