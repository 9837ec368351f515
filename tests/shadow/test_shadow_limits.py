"""Shadow comparison's cost is bounded and its failures stay its own: own concurrency limit, own
upstream budget, shed under load, skipped when an answer is too large, errors never reach the
client, and only reads can ever be configured."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from gateway.settings import ConfigError, load_settings
from tests.conftest import APP_KEY, StartGateway
from tests.shadow.test_shadow_end_to_end import SHADOW, _results, _settled, _shadow_report
from tests.support.kinvey_client import KinveyClient

StartUpstream = Callable[[web.Application], Awaitable[str]]


def _upstream(candidate_delay: float = 0.0, size: int = 10) -> web.Application:
    """Answers every read with one entity; calls at the candidate version (6) take a while."""

    async def handle(request: web.Request) -> web.Response:
        if request.headers.get("X-Kinvey-API-Version") == "6":
            await asyncio.sleep(candidate_delay)
        return web.json_response({"_id": "e1", "pad": "x" * size})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def _read(gateway_url: str) -> int:
    reply = await KinveyClient(gateway_url, 5, "Kinvey t").call("GET", f"/appdata/{APP_KEY}/c/e1")
    return reply.status


async def test_the_client_is_answered_before_the_comparison_and_busy_slots_skip(
    start_upstream: StartUpstream, start_gateway: StartGateway
) -> None:
    upstream = await start_upstream(_upstream(candidate_delay=1.0))
    gateway = await start_gateway(upstream, pin=5, **{**SHADOW, "shadow__max_concurrency": 1})
    assert await _read(gateway.url) == 200
    # The client has its answer while the candidate call is still waiting: nothing counted yet.
    assert (await _shadow_report(gateway))["totals"] == []
    assert await _read(gateway.url) == 200  # the one slot is taken: this sample is skipped
    report = await _settled(gateway, 2)
    assert _results(report) == {("appdata.entity", "5"): {"same", "skipped"}}


async def test_the_upstream_budget_bounds_shadow_calls(
    start_upstream: StartUpstream, start_gateway: StartGateway
) -> None:
    upstream = await start_upstream(_upstream())
    gateway = await start_gateway(upstream, pin=5, **{**SHADOW, "shadow__max_calls_per_second": 2})
    for _ in range(3):
        assert await _read(gateway.url) == 200
    totals = (await _settled(gateway, 3))["totals"]
    assert {row["result"]: row["count"] for row in totals} == {"same": 1, "skipped": 2}


async def test_shadow_work_is_shed_first_under_load(
    start_upstream: StartUpstream, start_gateway: StartGateway
) -> None:
    """With every client slot counted as load (a limit of one request in flight), no shadow
    call is made at all: client requests never wait behind shadow work."""
    upstream = await start_upstream(_upstream())
    gateway = await start_gateway(
        upstream, pin=5, **{**SHADOW, "limits__max_concurrent_requests": 1}
    )
    assert await _read(gateway.url) == 200
    assert _results(await _settled(gateway, 1)) == {("appdata.entity", "5"): {"skipped"}}


async def test_answers_larger_than_the_shadow_limit_are_skipped(
    start_upstream: StartUpstream, start_gateway: StartGateway
) -> None:
    upstream = await start_upstream(_upstream(size=5000))
    gateway = await start_gateway(upstream, pin=5, **{**SHADOW, "shadow__max_body_bytes": 1000})
    assert await _read(gateway.url) == 200
    assert _results(await _settled(gateway, 1)) == {("appdata.entity", "5"): {"skipped"}}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_failing_candidate_is_an_error_never_seen_by_the_client(
    start_upstream: StartUpstream, start_gateway: StartGateway
) -> None:
    upstream = await start_upstream(_upstream())
    candidate = f"http://127.0.0.1:{_closed_port()}"
    gateway = await start_gateway(upstream, pin=5, **{**SHADOW, "shadow__upstream_url": candidate})
    assert await _read(gateway.url) == 200
    assert _results(await _settled(gateway, 1)) == {("appdata.entity", "5"): {"error"}}


@pytest.mark.parametrize("route", ["user.login", "appdata.collection,rpc.custom", "push"])
def test_only_reads_can_be_shadowed(route: str) -> None:
    with pytest.raises(
        ConfigError, match=r"KINVEY_GATEWAY_SHADOW_ROUTES: .* not allowed; choose from appdata"
    ):
        load_settings(None, {"KINVEY_GATEWAY_SHADOW_ROUTES": route}, {"upstream.url": "http://u"})


def test_shadow_is_off_by_default() -> None:
    settings = load_settings(None, {}, {"upstream.url": "http://u"})
    assert settings.shadow.candidate_api_version is None
