"""The lean upstream client (``UpstreamClient`` without an egress proxy) against a raw upstream.

What goes on the wire, keep-alive reuse and when a connection must not be reused, the retry of
a dead kept-alive connection, the read timeout as silence (not total time), the pool bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from multidict import CIMultiDict

from gateway.http.upstream import UpstreamClient, UpstreamError, UpstreamResponse
from tests.upstream.scripted_upstream import Received, ScriptedUpstream, ok


class Counts:
    def __init__(self) -> None:
        self.opened = 0
        self.reused = 0

    def open(self) -> None:
        self.opened += 1

    def reuse(self) -> None:
        self.reused += 1


@pytest.fixture
async def counts() -> Counts:
    return Counts()


@pytest.fixture
async def client(counts: Counts) -> AsyncIterator[UpstreamClient]:
    upstream_client = UpstreamClient(
        pool_size=4,
        connect_timeout=1.0,
        read_timeout=0.5,
        keepalive_timeout=5.0,
        on_connection_opened=counts.open,
        on_connection_reused=counts.reuse,
    )
    await upstream_client.start()
    yield upstream_client
    await upstream_client.close()


async def _call(
    client: UpstreamClient,
    upstream: ScriptedUpstream,
    method: str = "GET",
    body: bytes | AsyncIterator[bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[UpstreamResponse, bytes]:
    response = await client.send(
        upstream.url, method, "/p/a%20b?q=1", CIMultiDict(headers or {}), body
    )
    try:
        data = await response.content.read()
    finally:
        response.release()
    return response, data


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


@pytest.mark.parametrize(
    ("method", "body", "headers", "framing", "wire_body"),
    [
        ("GET", None, {}, {}, b""),
        ("POST", None, {}, {"Content-Length": "0"}, b""),
        ("DELETE", b"", {}, {"Content-Length": "0"}, b""),
        ("PUT", b"xyz", {}, {"Content-Length": "3"}, b"xyz"),
        ("PUT", "stream", {"Content-Length": "6"}, {"Content-Length": "6"}, b"abcdef"),
        (
            "POST",
            "stream",
            {},
            {"Transfer-Encoding": "chunked"},
            b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
        ),
    ],
)
async def test_request_bytes_on_the_wire(
    client: UpstreamClient,
    upstream: ScriptedUpstream,
    method: str,
    body: bytes | str | None,
    headers: dict[str, str],
    framing: dict[str, str],
    wire_body: bytes,
) -> None:
    sent = _chunks(b"abc", b"def") if body == "stream" else body
    assert not isinstance(sent, str)
    await _call(client, upstream, method, sent, {"X-Custom": "1", **headers})
    seen = upstream.received[-1]
    assert seen.request_line == f"{method} /p/a%20b?q=1 HTTP/1.1"
    host = upstream.url.removeprefix("http://")
    assert dict(seen.headers) == {"X-Custom": "1", "Host": host, **framing}  # nothing invented
    assert seen.body == wire_body


async def test_answer_head_and_body_and_keep_alive_reuse(
    client: UpstreamClient, upstream: ScriptedUpstream, counts: Counts
) -> None:
    upstream.answer = lambda _: ok(b"hello", "Set-Cookie: a=1", "Set-Cookie: b=2")
    for _ in range(3):
        response, data = await _call(client, upstream)
        assert (response.status, response.reason, data) == (200, "OK", b"hello")
        assert response.headers.getall("Set-Cookie") == ["a=1", "b=2"]
    assert upstream.connections == 1
    assert (counts.opened, counts.reused) == (1, 2)
    assert client.connections_in_use() == 0


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n",
            b"hello",
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", b"hi"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", b""),
    ],
)
async def test_chunked_interim_and_empty_answers_keep_the_connection(
    client: UpstreamClient, upstream: ScriptedUpstream, answer: bytes, body: bytes
) -> None:
    upstream.answer = lambda _: answer
    assert (await _call(client, upstream))[1] == body
    assert (await _call(client, upstream))[1] == body
    assert upstream.connections == 1


async def test_head_answer_announces_a_body_it_does_not_carry(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer = lambda r: (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
        + (b"" if r.head.startswith(b"HEAD") else b"hello")
    )
    head, data = await _call(client, upstream, "HEAD")
    assert (head.headers["Content-Length"], data) == ("5", b"")
    assert (await _call(client, upstream, "GET"))[1] == b"hello"
    assert (await _call(client, upstream, "HEAD"))[1] == b""
    assert upstream.connections == 1


async def test_read_until_close_body_and_connection_close_are_not_reused(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer = lambda _: ok(b"x", "Connection: close")
    await _call(client, upstream)
    await _call(client, upstream)
    assert upstream.connections == 2

    async def until_close(_: Received) -> None:
        writer = next(iter(upstream._writers))
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nall of it")
        await writer.drain()
        return None  # the body ends where the connection does

    upstream.answer = until_close
    assert (await _call(client, upstream))[1] == b"all of it"


async def test_a_body_released_unread_closes_its_connection(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer = lambda _: b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"z" * 10
    response = await client.send(upstream.url, "GET", "/", CIMultiDict(), None)
    response.release()
    upstream.answer = lambda _: ok()
    await _call(client, upstream)
    assert upstream.connections == 2
    assert client.connections_in_use() == 0


async def test_dead_kept_alive_connection_is_retried_once_for_get_only(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer = lambda r: ok() if r.connection == upstream.connections else None
    await _call(client, upstream)  # connection 1, kept alive
    upstream.answer = lambda r: None if r.connection == 1 else ok()
    assert (await _call(client, upstream))[1] == b"ok"  # died on reuse, retried on connection 2
    assert upstream.connections == 2
    upstream.answer = lambda _: None  # every connection now dies on its first request
    with pytest.raises(UpstreamError) as refused:
        await _call(client, upstream, "POST", b"{}")
    assert refused.value.outcome == "disconnected"
    assert len(upstream.received) == 4  # GET, GET (dropped), GET (retry), POST (dropped)
    with pytest.raises(UpstreamError):
        await _call(client, upstream, "GET")  # a fresh connection dying is not retried
    assert len(upstream.received) == 5


async def test_read_timeout_is_silence_not_total_time(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    async def drip(_: Received) -> bytes:
        writer = next(iter(upstream._writers))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        for letter in b"drip":  # 4 x 0.2 s: longer than the 0.5 s timeout in all, never silent
            await asyncio.sleep(0.2)
            writer.write(bytes([letter]))
        return b"!"

    upstream.answer = drip
    assert (await _call(client, upstream))[1] == b"drip!"

    async def silent(_: Received) -> None:
        await asyncio.sleep(3)
        return None

    upstream.answer = silent
    with pytest.raises(UpstreamError) as timed_out:
        await _call(client, upstream)
    assert (timed_out.value.outcome, timed_out.value.status) == ("timeout", 504)


async def test_pool_bound_queues_requests_beyond_it(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    open_at_once = [0, 0]

    async def slow(_: Received) -> bytes:
        open_at_once[0] += 1
        open_at_once[1] = max(open_at_once)
        await asyncio.sleep(0.05)
        open_at_once[0] -= 1
        return ok()

    upstream.answer = slow
    results = await asyncio.gather(*(_call(client, upstream) for _ in range(12)))
    assert [data for _, data in results] == [b"ok"] * 12
    assert open_at_once[1] <= 4 and upstream.connections <= 4
    assert client.connections_in_use() == 0


async def test_header_injection_is_refused_before_anything_is_sent(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    with pytest.raises(ValueError, match="header injection"):
        await _call(client, upstream, headers={"X-Evil": "a\r\nX-Injected: 1"})
    assert upstream.received == []
    assert client.connections_in_use() == 0


async def test_early_answer_while_uploading_is_returned_and_not_reused(
    client: UpstreamClient,
) -> None:
    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"u" * 65536
            await asyncio.sleep(0.01)

    async def refuse_after_the_head(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await reader.read(1000)
        writer.write(b"HTTP/1.1 413 Too Large\r\nContent-Length: 3\r\n\r\nbig")
        await writer.drain()
        await asyncio.sleep(0.5)
        writer.transport.abort()

    server = await asyncio.start_server(refuse_after_the_head, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        headers = CIMultiDict({"Content-Length": str(1 << 30)})
        response = await asyncio.wait_for(client.send(url, "PUT", "/up", headers, endless()), 5)
        assert (response.status, await response.content.read()) == (413, b"big")
        response.release()  # the body was not all sent: the connection is closed, not kept
        assert client.connections_in_use() == 0
        assert client._pool is not None and not client._pool._idle.get(("127.0.0.1", 0, False))
    finally:
        server.close()


async def test_refused_connection_is_a_connect_error(client: UpstreamClient) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(UpstreamError) as refused:
        await client.send(f"http://127.0.0.1:{port}", "GET", "/", CIMultiDict(), None)
    assert (refused.value.outcome, refused.value.debug) == (
        "connect_error",
        "could not connect to the upstream",
    )
    assert client.connections_in_use() == 0


async def test_garbage_is_an_invalid_http_response(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer = lambda _: b"\x16\x03\x01 not http\r\n\r\n"
    with pytest.raises(UpstreamError) as garbage:
        await _call(client, upstream)
    assert garbage.value.debug == "the upstream sent an invalid HTTP response"


async def test_truncated_body_is_a_payload_error(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    upstream.answer = upstream.then_close(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    response = await client.send(upstream.url, "GET", "/", CIMultiDict(), None)
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.content.read()
    response.release()
    assert client.connections_in_use() == 0


async def test_idle_connections_are_closed_after_the_keep_alive_timeout(
    upstream: ScriptedUpstream, counts: Counts
) -> None:
    client = UpstreamClient(
        pool_size=4,
        connect_timeout=1.0,
        read_timeout=1.0,
        keepalive_timeout=0.2,
        on_connection_opened=counts.open,
    )
    await client.start()
    try:
        await _call(client, upstream)
        for _ in range(100):  # bounded wait for the sweep
            if upstream.closed_connections:
                break
            await asyncio.sleep(0.02)
        assert upstream.closed_connections == 1  # closed by us, while idle
        await _call(client, upstream)
        assert (upstream.connections, counts.opened) == (2, 2)
    finally:
        await client.close()
    assert client.connections_in_use() == 0


async def test_a_buffered_put_is_retried_once_on_a_fresh_connection(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    """Idempotent with a body the client can send again (nginx, Go net/http: see h1_client)."""
    await _call(client, upstream)  # connection 1, kept alive
    upstream.answer = lambda r: None if r.connection == 1 else ok(b"put")
    assert (await _call(client, upstream, "PUT", b"same bytes"))[1] == b"put"
    assert [(r.connection, r.body) for r in upstream.received[1:]] == [
        (1, b"same bytes"),
        (2, b"same bytes"),
    ]


async def test_a_connection_goes_back_to_the_pool_when_its_answer_is_read(
    upstream: ScriptedUpstream,
) -> None:
    """One connection: a caller that read its answer but has not released it (a side call of
    a request still being handled) does not hold the connection from the next call."""
    client = UpstreamClient(
        pool_size=1, pool_timeout=0.5, connect_timeout=1.0, read_timeout=1.0, keepalive_timeout=5
    )
    await client.start()
    try:
        upstream.answer = lambda r: ok(b"answer %d" % len(upstream.received))
        held = []
        for _ in range(3):
            response = await client.send(upstream.url, "GET", "/", CIMultiDict(), None)
            held.append(await response.content.read())  # read, never released
        assert held == [b"answer 1", b"answer 2", b"answer 3"]
        assert upstream.connections == 1 and client.connections_in_use() == 0
    finally:
        await client.close()


async def test_a_wait_for_a_pooled_connection_has_its_own_timeout_and_outcome(
    upstream: ScriptedUpstream,
) -> None:
    client = UpstreamClient(
        pool_size=1, pool_timeout=0.2, connect_timeout=5.0, read_timeout=5.0, keepalive_timeout=5
    )
    await client.start()
    try:
        upstream.answer = lambda _: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"
        busy = await client.send(upstream.url, "GET", "/", CIMultiDict(), None)  # body unread
        with pytest.raises(UpstreamError) as waited:
            await client.send(upstream.url, "GET", "/", CIMultiDict(), None)
        assert (waited.value.outcome, waited.value.status) == ("pool_timeout", 503)
        assert "upstream.pool_size 1" in waited.value.debug
        busy.release()
        upstream.answer = lambda _: ok()
        assert (await _call(client, upstream))[1] == b"ok"  # the slot came back
    finally:
        await client.close()


async def test_pool_size_bounds_connections_to_all_upstreams_together(
    upstream: ScriptedUpstream,
) -> None:
    """Per-app upstreams share ``upstream.pool_size``: idle connections to one origin are
    closed to make room for another, never more open than the bound."""
    other = ScriptedUpstream()
    await other.start()
    client = UpstreamClient(
        pool_size=2, pool_timeout=1.0, connect_timeout=1.0, read_timeout=1.0, keepalive_timeout=5
    )
    await client.start()
    try:

        async def slow(_: Received) -> bytes:
            await asyncio.sleep(0.05)
            return ok()

        upstream.answer = slow
        await asyncio.gather(_call(client, upstream), _call(client, upstream))
        assert upstream.connections == 2  # both idle now, both to the first origin
        assert (await _call(client, other))[1] == b"ok"
        for _ in range(50):  # bounded: the idle one closed to make room is seen closed
            if upstream.closed_connections:
                break
            await asyncio.sleep(0.01)
        assert upstream.closed_connections == 1
        open_now = (upstream.connections - upstream.closed_connections) + (
            other.connections - other.closed_connections
        )
        assert open_now <= 2
    finally:
        await client.close()
        await other.stop()


async def test_a_head_split_over_packets_then_stray_bytes_still_gives_the_answer(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    async def in_pieces(request: Received) -> bytes:
        if request.connection > 1:
            return ok(b"fresh")
        writer = next(iter(upstream._writers))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Le")
        await writer.drain()
        await asyncio.sleep(0.05)  # a packet of its own
        return b"ngth: 2\r\n\r\nhiGARBAGE"

    upstream.answer = in_pieces
    assert (await _call(client, upstream))[1] == b"hi"
    assert (await _call(client, upstream))[1] == b"fresh"
    assert upstream.connections == 2  # the first connection was not used again


async def test_bytes_after_an_answer_behind_an_interim_one_never_reach_the_next_answer(
    client: UpstreamClient, upstream: ScriptedUpstream
) -> None:
    """The start of a message after the answer (valid so far, so the parser keeps it) must not
    be taken as the start of the next answer on the connection."""
    answers = iter([b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"one") + b"HTTP/1.1 2", ok(b"two")])
    upstream.answer = lambda _: next(answers)
    assert (await _call(client, upstream))[1] == b"one"
    assert (await _call(client, upstream))[1] == b"two"


# One byte more than a body reader holds before it pauses the socket (aiohttp's read limit of
# 64 KiB, doubled for the high-water mark): the byte that pauses the reader is the answer's last.
_FILLS_THE_READER = 2 * 2**16 + 1


@pytest.mark.parametrize("framing", ["Content-Length", "chunked"])
async def test_an_answer_whose_last_bytes_fill_the_body_reader_ends_and_frees_the_connection(
    client: UpstreamClient, upstream: ScriptedUpstream, counts: Counts, framing: str
) -> None:
    """The parser pauses when the body reader is full, keeping the rest of the packet (here the
    answer's end: llhttp's message-complete, or the chunked ``0`` chunk) until aiohttp's
    ``resume_reading`` feeds it ``b""``. Nothing else will come on the connection, so if that
    empty feed is dropped the body never ends: the reader waits forever (here until the read
    timeout), the connection never goes back to the pool, and through the gateway the
    client's next request on its keep-alive connection hangs. The answer is read only once
    all of it has reached the reader, so the last byte is the one that pauses it."""
    body = bytes(range(256)) * (_FILLS_THE_READER // 256) + b"!"
    assert len(body) == _FILLS_THE_READER
    if framing == "chunked":
        wire = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        big = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + wire
    else:
        big = ok(body)
    answers = iter([big, ok(b"next")])
    upstream.answer = lambda _: next(answers)
    response = await client.send(upstream.url, "GET", "/big", CIMultiDict(), None)
    try:
        for _ in range(500):  # bounded: until every body byte has reached the reader
            if response.content.total_bytes == len(body):
                break
            await asyncio.sleep(0.01)
        assert response.content.total_bytes == len(body)
        assert await asyncio.wait_for(response.content.read(), 5) == body
    finally:
        response.release()
    assert client.connections_in_use() == 0
    assert (await _call(client, upstream))[1] == b"next"
    assert (upstream.connections, counts.reused) == (1, 1)  # the same connection, kept alive
