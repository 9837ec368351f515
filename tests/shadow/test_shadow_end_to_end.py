"""Shadow comparison end to end: a gateway pinned at 5 with candidate 6, in front of the built-in
emulator serving every version (as a Kinvey instance does), with real clients at v0..v6.

What is asserted is what an operator relies on before raising the pin: reads that the changes
translate faithfully compare ``same``; a change that breaks a field is reported with the exact
field path; noise (a field that differs between two calls at the current pin) is told apart;
shadow calls are never writes; and the client's bytes do not depend on whether shadow is on.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.changes import BUNDLE
from gateway.versioning import ResponseInfo, VersionChange, older
from gateway.versioning.bundle import VersionBundle
from tests.conftest import APP_KEY, APP_SECRET, RunningGateway, StartGateway
from tests.support.kinvey_client import KinveyClient, basic

SHADOW = {
    "shadow__candidate_api_version": 6,
    "shadow__sample_ratio": 1.0,
    "shadow__max_concurrency": 64,
    "shadow__max_calls_per_second": 10_000,
}
_names = itertools.count()


async def _shadow_report(gateway: RunningGateway) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(gateway.admin_url + "/shadow") as answer,
    ):
        assert answer.status == 200
        report: dict[str, Any] = await answer.json()
        return report


async def _settled(gateway: RunningGateway, expected: int) -> dict[str, Any]:
    """The report once ``expected`` comparisons have been counted (bounded wait)."""
    for _ in range(200):
        report = await _shadow_report(gateway)
        if sum(row["count"] for row in report["totals"]) >= expected:
            return report
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {report['totals']} of {expected} comparisons were counted")


def _results(report: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}
    for row in report["totals"]:
        found.setdefault((row["route"], row["api_version"]), set()).add(row["result"])
    return found


async def _user(emulator: str) -> tuple[str, str, str]:
    """A user made straight at the emulator: (username, password, session token)."""
    username, password = f"shadow-{next(_names)}", "pa:ss wörd"
    signup = await KinveyClient(emulator, 5, basic(APP_KEY, APP_SECRET)).call(
        "POST", f"/user/{APP_KEY}", body={"username": username, "password": password}
    )
    assert signup.status == 201, signup.raw
    return username, password, signup.json["_kmd"]["authtoken"]


async def _reads(gateway: str, emulator: str, version: int, collection: str) -> int:
    """Every read route a client at ``version`` makes, through the gateway; how many."""
    username, password, token = await _user(emulator)
    auth = f"Kinvey {token}" if version >= 1 else basic(username, password)
    client = KinveyClient(gateway, version, auth)
    created = await client.call(
        "POST", f"/appdata/{APP_KEY}/{collection}", body={"title": "Dune", "n": version}
    )
    assert created.status == 201, created.raw
    entity = created.json["_id"]
    me = await client.call("GET", f"/user/{APP_KEY}/_me")
    assert me.status == 200, me.raw
    paths = [
        f"/appdata/{APP_KEY}",
        f"/appdata/{APP_KEY}/{collection}",
        f"/appdata/{APP_KEY}/{collection}/{entity}",
        f"/appdata/{APP_KEY}/{collection}/_count",
        f"/user/{APP_KEY}/_me",
        f"/user/{APP_KEY}/{me.json['_id']}",
    ]
    for path in paths:
        reply = await client.call("GET", path)
        assert reply.status == 200, (path, reply.raw)
    return len(paths)


async def test_faithful_reads_compare_same_at_every_client_version(
    start_emulator: Callable[..., Awaitable[str]], start_gateway: StartGateway
) -> None:
    emulator = await start_emulator(min_api_version=0, max_api_version=6)
    gateway = await start_gateway(emulator, pin=5, **SHADOW)
    expected = 0
    for version in range(7):
        expected += await _reads(gateway.url, emulator, version, f"books{version}")
    report = await _settled(gateway, expected)
    results = _results(report)
    assert {result for found in results.values() for result in found} <= {"same", "noise"}, report[
        "samples"
    ]
    for version in range(7):
        assert ("appdata.entity", str(version)) in results
        assert ("user.me", str(version)) in results
    assert report["samples"] == []


class _BrokenTitle(VersionChange):
    """A deliberately broken change (test only): older clients lose the entity's title."""

    introduced_in = 6

    @older.response("GET", routes={"appdata.entity"}, statuses={200})
    def drop_title(response: ResponseInfo) -> None:
        _without_title(response)


def _without_title(response: ResponseInfo) -> None:
    body = response.json
    if isinstance(body, dict):
        response.json = {key: value for key, value in body.items() if key != "title"}


async def test_a_broken_change_is_reported_with_its_field_path(
    start_emulator: Callable[..., Awaitable[str]], start_gateway: StartGateway
) -> None:
    emulator = await start_emulator(min_api_version=0, max_api_version=6)
    gateway = await start_gateway(emulator, pin=5, **SHADOW)
    gateway.runtime.gateway.bundle = VersionBundle([*BUNDLE.changes, _BrokenTitle])
    _, _, token = await _user(emulator)
    client = KinveyClient(gateway.url, 4, f"Kinvey {token}")
    created = await client.call("POST", f"/appdata/{APP_KEY}/novels", body={"title": "Emma"})
    reply = await client.call("GET", f"/appdata/{APP_KEY}/novels/{created.json['_id']}")
    assert reply.json["title"] == "Emma"  # the client's answer is untouched by the shadow
    report = await _settled(gateway, 1)
    assert _results(report) == {("appdata.entity", "4"): {"differs"}}
    [sample] = report["samples"]
    assert sample["fields"] == ["$.title"]
    assert (sample["client_version"], sample["current_pin"], sample["candidate_pin"]) == (4, 5, 6)
    # Values are redacted by default: the type and size, never the user's data.
    assert sample["values"]["$.title"] == {"old": "<string of 4 characters>", "new": "<absent>"}
    assert "Emma" not in json.dumps(report)
    metrics = await _metrics(gateway)
    assert (
        'kgw_shadow_differing_fields_total{api_version="4",field="$.title",route="appdata.entity"}'
        " 1.0" in metrics
    )
    assert (
        'kgw_shadow_comparisons_total{api_version="4",result="differs",route="appdata.entity"}'
        " 1.0" in metrics
    )


async def _metrics(gateway: RunningGateway) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.get(gateway.admin_url + "/metrics") as answer,
    ):
        return await answer.text()


def _recording_upstream(
    counter: itertools.count[int], log: list[tuple[str, str]]
) -> web.Application:
    """A fake Kinvey that records every request and answers a read with a value that changes
    on every call (like a server-generated timestamp that Kinvey does not mark volatile)."""

    async def handle(request: web.Request) -> web.Response:
        log.append((request.method, request.path_qs))
        body = {"_id": "e1", "title": "same", "served": next(counter)}
        return web.json_response(body, headers={"X-Kinvey-API-Version": "6"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def test_a_field_that_changes_by_itself_is_noise_and_no_shadow_call_is_a_write(
    start_upstream: Callable[[web.Application], Awaitable[str]], start_gateway: StartGateway
) -> None:
    log: list[tuple[str, str]] = []
    upstream = await start_upstream(_recording_upstream(itertools.count(), log))
    gateway = await start_gateway(upstream, pin=5, **SHADOW)
    client = KinveyClient(gateway.url, 5, "Kinvey token")
    for _ in range(3):
        assert (await client.call("GET", f"/appdata/{APP_KEY}/c/e1")).status == 200
    for method in ("POST", "PUT", "DELETE"):
        await client.call(method, f"/appdata/{APP_KEY}/c/e1", body={"title": "x"})
    await client.call("POST", f"/user/{APP_KEY}/login", body={"username": "u", "password": "p"})
    report = await _settled(gateway, 3)
    assert _results(report) == {("appdata.entity", "5"): {"noise"}}
    assert report["noise"]["appdata.entity"] == ["$.served"]
    # Each sampled read was asked three times (client, candidate, noise); nothing else repeated.
    assert log.count(("GET", f"/appdata/{APP_KEY}/c/e1")) == 9
    assert sorted(m for m, _ in log if m != "GET") == ["DELETE", "POST", "POST", "PUT"]


async def _raw_exchange(url: str, request: bytes) -> bytes:
    match = re.match(r"http://([^:]+):(\d+)", url)
    assert match is not None
    reader, writer = await asyncio.open_connection(match[1], int(match[2]))
    writer.write(request)
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data


def _without_volatile_headers(raw: bytes) -> bytes:
    return re.sub(rb"(?im)^(date|x-kinvey-request-id): [^\r]*\r\n", b"", raw)


@pytest.mark.parametrize("shadow_on", [False, True])
async def test_the_clients_bytes_do_not_depend_on_shadow(
    start_emulator: Callable[..., Awaitable[str]],
    start_gateway: StartGateway,
    shadow_on: bool,
) -> None:
    emulator = await start_emulator(min_api_version=0, max_api_version=6)
    _, _, token = await _user(emulator)
    plain = await start_gateway(emulator, pin=5)
    shadowed = await start_gateway(emulator, pin=5, **(SHADOW if shadow_on else {}))
    created = await KinveyClient(plain.url, 5, f"Kinvey {token}").call(
        "POST", f"/appdata/{APP_KEY}/raw", body={"title": "bytes"}
    )
    path = f"/appdata/{APP_KEY}/raw/{created.json['_id']}"
    ask = (
        f"GET {path} HTTP/1.1\r\nHost: gw\r\nX-Kinvey-API-Version: 2\r\n"
        f"Authorization: Kinvey {token}\r\nConnection: close\r\n\r\n"
    ).encode()
    without = await _raw_exchange(plain.url, ask)
    with_shadow = await _raw_exchange(shadowed.url, ask)
    assert _without_volatile_headers(with_shadow) == _without_volatile_headers(without)
    if shadow_on:
        assert _results(await _settled(shadowed, 1)) == {("appdata.entity", "2"): {"same"}}
