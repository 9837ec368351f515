"""The upstream pool seen through a real gateway: side calls never starve each other, and a
wait for a connection ends with its own clear 503 in the answer, access log and metrics."""

from __future__ import annotations

import asyncio
import io
import json

import aiohttp

from gateway.observability.access_log import AccessLogger
from tests.changes.support import MASTER_AUTH, StartGatewayOnEmulator
from tests.conftest import APP_KEY, StartGateway
from tests.support.kinvey_client import KinveyClient
from tests.upstream.raw_client import RawClient, request_bytes
from tests.upstream.scripted_upstream import Received, ScriptedUpstream, ok

BOOKS = f"/appdata/{APP_KEY}/books"


async def test_a_multi_call_flow_fits_a_pool_smaller_than_its_side_calls(
    start_gateway_on_emulator: StartGatewayOnEmulator, http_session: aiohttp.ClientSession
) -> None:
    """A v5 client's 10-entity insert on a v4 pin is ten upstream calls (fanned out several at
    a time) within one client request; with ``upstream.pool_size: 4`` every one of them gets
    a connection, because each goes back to the pool as soon as its answer is read."""
    gateway = await start_gateway_on_emulator(4, versions=(0, 4), upstream__pool_size=4)
    client = KinveyClient(gateway.url, 5, session=http_session)
    body = [{"_id": f"e{i}", "n": i} for i in range(10)]
    inserted = await client.call("POST", BOOKS, auth=MASTER_AUTH, body=body)
    assert inserted.status == 201, inserted.raw
    assert inserted.json["errors"] == []
    assert [entity["n"] for entity in inserted.json["entities"]] == list(range(10))
    assert gateway.runtime.upstream.connections_in_use() == 0
    assert (
        gateway.registry.get_sample_value(
            "kgw_upstream_requests_total", {"route": "appdata.collection", "outcome": "ok"}
        )
        == 10
    )


async def test_a_pool_wait_that_times_out_is_a_503_named_in_the_access_log_and_metrics(
    start_gateway: StartGateway,
) -> None:
    upstream = ScriptedUpstream()
    await upstream.start()

    async def head_then_stall(request: Received) -> bytes | None:
        if request.request_line.startswith("GET /appdata"):
            writer = next(iter(upstream._writers))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstarted")
            await asyncio.sleep(30)  # the body never ends: the one connection stays busy
        return ok()

    upstream.answer = head_then_stall
    gateway = await start_gateway(
        upstream.url, upstream__pool_size=1, upstream__pool_timeout_seconds=0.2
    )
    log = io.StringIO()
    gateway.runtime.gateway.access_log = AccessLogger(enabled=True, stream=log)
    busy = await RawClient.connect(gateway.runtime.proxy_address)
    try:
        await busy.send(request_bytes("GET", BOOKS, {"X-Kinvey-API-Version": "6"}))
        await asyncio.wait_for(busy.reader.readuntil(b"started"), 5)
        client = await RawClient.connect(gateway.runtime.proxy_address)
        try:
            waited = await client.request(request_bytes("POST", BOOKS, {}, b"{}"))
        finally:
            client.close()
    finally:
        busy.close()
        await upstream.stop()
    assert waited.status == 503
    assert json.loads(waited.body)["debug"] == (
        "no upstream connection came free within 0.2 s (upstream.pool_size 1)"
    )
    gateway.runtime.gateway.access_log.close()
    entries = [json.loads(line) for line in log.getvalue().splitlines()]
    refused = [e for e in entries if e["method"] == "POST"]
    assert [(e["status"], e["outcome"]) for e in refused] == [(503, "pool_timeout")]
    assert (
        gateway.registry.get_sample_value(
            "kgw_upstream_requests_total",
            {"route": "appdata.collection", "outcome": "pool_timeout"},
        )
        == 1
    )


async def test_a_large_relayed_answer_ends_and_the_next_request_on_the_connection_is_answered(
    start_gateway_on_emulator: StartGatewayOnEmulator,
) -> None:
    """One keep-alive connection of a v0 client on a v4 pin: a small chunked insert, then a
    large one (its JSON sent chunked in 64 KiB pieces) whose ~600 kB answer is relayed back,
    then a GET. The large answer fills the upstream body reader (the parser pauses) as it
    streams, and its end must still be parsed once the reader has room again; otherwise the
    relay waits for a body end that never comes: the answer's bytes all reach the client, but
    the GET behind it on the same connection is never answered."""
    gateway = await start_gateway_on_emulator(4, versions=(0, 4), upstream__pool_size=4)
    large = json.dumps({"_id": "large", "text": "\u00e9" * 300_000}).encode()
    pieces = [large[i : i + 65536] for i in range(0, len(large), 65536)]
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
    v0 = {"X-Kinvey-API-Version": "0", "Authorization": MASTER_AUTH}
    post = {**v0, "Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    client = await RawClient.connect(gateway.runtime.proxy_address)
    try:
        small = request_bytes("POST", BOOKS, post, b'17\r\n{"_id":"chunked","n":1}\r\n0\r\n\r\n')
        assert (await client.request(small, "POST")).status == 201
        stored = await client.request(request_bytes("POST", BOOKS, post, chunked + b"0\r\n\r\n"))
        assert stored.status == 201
        assert json.loads(stored.body)["text"] == "\u00e9" * 300_000
        fetched = await client.request(request_bytes("GET", BOOKS + "/large?fields=_id", v0))
        assert (fetched.status, json.loads(fetched.body)["_id"]) == (200, "large")
    finally:
        client.close()
    assert gateway.runtime.upstream.connections_in_use() == 0
