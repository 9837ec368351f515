"""A HEAD request the gateway answers itself: the head of its answer, no body (RFC 9110 §9.3.2).

Bytes on the wire are the assertion: a HEAD answer that carried its body would desynchronise
the next answer on the same connection, and one that crashed would be a bare 500.
"""

from __future__ import annotations

import asyncio

from tests.conftest import StartGateway, StartUpstream
from tests.support.background import split_responses
from tests.support.echo_upstream import EchoUpstream

# A v0 client has no sessions: the gateway refuses a session token itself (spec §3).
REFUSED = (
    "/appdata/kid_x/books HTTP/1.1\r\nHost: x\r\nX-Kinvey-API-Version: 0\r\n"
    "Authorization: Kinvey some-session\r\n"
)


async def _pipelined(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def test_a_head_the_gateway_refuses_gets_the_errors_head_and_no_body(
    start_upstream: StartUpstream, start_gateway: StartGateway
) -> None:
    upstream = EchoUpstream()
    gateway = await start_gateway(await start_upstream(upstream.app()))
    port = int(gateway.url.rsplit(":", 1)[1])
    payload = f"HEAD {REFUSED}\r\nGET {REFUSED}Connection: close\r\n\r\n".encode()
    wire = await _pipelined(port, payload)
    head_end = wire.index(b"\r\n\r\n") + 4
    assert wire[:head_end].startswith(b"HTTP/1.1 401 ")
    assert wire[head_end:].startswith(b"HTTP/1.1 401 ")  # no body between the two answers
    [(_, head_headers, _)] = split_responses(wire[:head_end])
    [(status, get_headers, body)] = split_responses(wire[head_end:])
    assert status == 401 and body.startswith(b'{"error":')
    assert head_headers["content-length"] == get_headers["content-length"] == str(len(body))
    assert head_headers["x-kinvey-api-version"] == "0"
    assert upstream.seen == []
