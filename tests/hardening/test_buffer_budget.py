"""Memory for buffered bodies is bounded by configuration, not by clients.

A double-gzip body of a few hundred bytes (it inflates to 64 MiB) on every route whose body a
change reads is refused with 413 once its decoded size passes ``max_buffered_body_bytes``,
having allocated about that much (traced with ``tracemalloc``), and nothing reaches the
upstream. Concurrent bodies share ``max_buffered_bytes_total``: beyond it, 503 with a Kinvey
body and ``Retry-After``, and the budget is whole again once the exchanges end.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import tracemalloc

import pytest

from gateway.changes import BUNDLE
from gateway.kinvey.routes import ROUTE_NAMES
from tests.conftest import APP_KEY, RunningGateway, StartGateway
from tests.support.raw_gateway import raw_answer
from tests.upstream.scripted_upstream import ScriptedUpstream, ok

LIMIT = 1 << 20
SAMPLE_PATHS = {
    "appdata.collection": f"/appdata/{APP_KEY}/books",
    "blob.collection": f"/blob/{APP_KEY}",
    "blob.entity": f"/blob/{APP_KEY}/f1",
    "user.collection": f"/user/{APP_KEY}",
    "user.entity": f"/user/{APP_KEY}/u1",
    "user.login": f"/user/{APP_KEY}/login",
}


def _translated_body_routes() -> list[tuple[int, int, str, str]]:
    """(client version, pin, method, route) of every exchange whose body a change reads."""
    found: dict[tuple[str, str], tuple[int, int, str, str]] = {}
    for pin in (3, 4, 5, 6):
        for client in range(7):
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                for route in ROUTE_NAMES:
                    if BUNDLE.plan(client, pin, method, route).reads_request_body:
                        found[method, route] = (client, pin, method, route)
    return sorted(found.values())


DOUBLE_GZIP_BOMB = gzip.compress(gzip.compress(b"[" + b" " * (64 << 20) + b"]", mtime=0), mtime=0)


@pytest.mark.parametrize("exchange", _translated_body_routes(), ids=str)
async def test_a_double_gzip_bomb_is_413_within_the_body_limit(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
    exchange: tuple[int, int, str, str],
) -> None:
    client, pin, method, route = exchange
    assert len(DOUBLE_GZIP_BOMB) < 1024
    gateway = await start_gateway(upstream.url, pin=pin, limits__max_buffered_body_bytes=LIMIT)
    headers = {
        "X-Kinvey-API-Version": str(client),
        "Content-Type": "application/json",
        "Content-Encoding": "gzip, gzip",
        "Authorization": "Kinvey session-token",
    }
    tracemalloc.start()
    try:
        status, _, body = await raw_answer(
            gateway, method, SAMPLE_PATHS[route], headers, DOUBLE_GZIP_BOMB
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 413, body
    if client > 0:  # v0's error body has no debug text
        assert "decoded request body is larger" in json.loads(body)["debug"]
    assert peak < 4 * LIMIT, f"{peak} bytes traced"  # the inflated 64 MiB never existed
    assert upstream.received == []
    assert gateway.runtime.gateway.buffers.in_use == 0


async def _hold_partial_upload(
    gateway: RunningGateway, sent: int, declared: int
) -> asyncio.StreamWriter:
    assert gateway.runtime.proxy_address is not None
    _, writer = await asyncio.open_connection(*gateway.runtime.proxy_address)
    head = (
        f"POST /appdata/{APP_KEY}/books HTTP/1.1\r\nHost: gw\r\nX-Kinvey-API-Version: 4\r\n"
        f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    )
    writer.write(head.encode() + b"{" + b" " * (sent - 1))
    await writer.drain()
    return writer


async def test_bodies_beyond_the_global_budget_get_503_with_retry_after(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
) -> None:
    upstream.answer = lambda _: ok(b'{"_id":"e1"}', "Content-Type: application/json")
    gateway = await start_gateway(
        upstream.url,
        pin=6,
        limits__max_buffered_body_bytes=LIMIT,
        limits__max_buffered_bytes_total=LIMIT + LIMIT // 2,
    )
    budget = gateway.runtime.gateway.buffers
    # Two uploads of 700 kB fit the 1.5 MiB budget together; 500 kB of each are in.
    held = [await _hold_partial_upload(gateway, 500_000, 700_000) for _ in range(2)]
    for _ in range(200):  # until the gateway has read (and charged) what was sent
        if budget.in_use >= 1_000_000:
            break
        await asyncio.sleep(0.01)
    assert budget.in_use >= 1_000_000

    status, headers, body = await raw_answer(
        gateway,
        "POST",
        f"/appdata/{APP_KEY}/books",
        {"X-Kinvey-API-Version": "4", "Content-Type": "application/json"},
        b"{" + b" " * 600_000 + b"}",
    )
    assert status == 503
    assert headers["retry-after"] == "1"
    assert json.loads(body)["error"] == "KinveyInternalErrorRetry"
    assert budget.refused == 1 and upstream.received == []

    for writer in held:  # the first two finish: the budget was theirs, not the refused one's
        writer.write(b" " * 199_999 + b"}")
    for _ in range(300):
        if len(upstream.received) == 2 and budget.in_use == 0:
            break
        await asyncio.sleep(0.01)
    assert len(upstream.received) == 2 and budget.in_use == 0
    for writer in held:
        writer.close()


async def test_a_nesting_bomb_is_a_json_parse_error_and_the_gateway_keeps_serving(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
) -> None:
    """``json.loads`` raises ``RecursionError`` past the interpreter's depth: no walk of our own
    is needed to keep a 500,000-deep body from crashing anything."""
    upstream.answer = lambda _: ok(b"[]", "Content-Type: application/json")
    gateway = await start_gateway(upstream.url, pin=6)
    depth = 500_000
    headers = {"X-Kinvey-API-Version": "4", "Content-Type": "application/json"}
    path = f"/appdata/{APP_KEY}/books"
    status, _, body = await raw_answer(gateway, "POST", path, headers, b"[" * depth + b"]" * depth)
    assert status == 400
    assert json.loads(body)["error"] == "JSONParseError"
    assert upstream.received == []
    status, _, _ = await raw_answer(gateway, "GET", path, {"X-Kinvey-API-Version": "6"})
    assert status == 200


async def test_an_answer_beyond_the_global_budget_is_503_with_retry_after(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
) -> None:
    count = json.dumps({"count": 1, "pad": " " * 500_000}).encode()
    upstream.answer = lambda _: ok(count, "Content-Type: application/json")
    gateway = await start_gateway(
        upstream.url,
        pin=6,
        limits__max_buffered_body_bytes=LIMIT,
        limits__max_buffered_bytes_total=LIMIT,
    )
    budget = gateway.runtime.gateway.buffers
    held = await _hold_partial_upload(gateway, 600_000, 700_000)
    for _ in range(200):
        if budget.in_use >= 600_000:
            break
        await asyncio.sleep(0.01)
    # A v1 DELETE's answer is read by a change (200 {"count"} -> 204): 500 kB more than fits.
    status, headers, body = await raw_answer(
        gateway, "DELETE", f"/appdata/{APP_KEY}/books/b1", {"X-Kinvey-API-Version": "1"}
    )
    assert (status, headers.get("retry-after")) == (503, "1"), body
    assert json.loads(body)["error"] == "KinveyInternalErrorRetry"
    held.close()
    for _ in range(200):
        if budget.in_use == 0:
            break
        await asyncio.sleep(0.01)
    assert budget.in_use == 0
