"""RFC 9110/9112 behaviour of the gateway as a proxy, byte for byte, as nginx and Envoy behave.

A real gateway runs in front of a raw-socket upstream whose answers are scripted byte for byte
(``ScriptedUpstream``); the client is a raw socket too (``RawClient``). Requests go to a route
no version change touches (pass-through) unless a case says otherwise.
"""

from __future__ import annotations

import asyncio
import gzip

import pytest

from tests.conftest import APP_KEY, RunningGateway, StartGateway
from tests.upstream.raw_client import RawAnswer, RawClient, request_bytes
from tests.upstream.scripted_upstream import ScriptedUpstream, ok

PASS_THROUGH = f"/appdata/{APP_KEY}/books"
V6 = {"X-Kinvey-API-Version": "6"}


@pytest.fixture
async def gateway(upstream: ScriptedUpstream, start_gateway: StartGateway) -> RunningGateway:
    return await start_gateway(upstream.url)


async def _one(gateway: RunningGateway, data: bytes, method: str = "GET") -> RawAnswer:
    client = await RawClient.connect(gateway.runtime.proxy_address)
    try:
        return await client.request(data, method)
    finally:
        client.close()


# -- Expect: 100-continue (RFC 9110 §10.1.1) -------------------------------------------------


async def test_expect_100_continue_is_answered_by_the_gateway_and_not_forwarded(
    gateway: RunningGateway, upstream: ScriptedUpstream
) -> None:
    """As nginx (ngx_http_read_client_request_body sends "100 Continue" itself) and Envoy
    (``proxy_100_continue: false``): the gateway says ``100 Continue``, the client sends its
    body, the upstream never sees the expectation. The client waits for the 100 here, as
    curl would, before sending a byte of its body."""
    upstream.answer = lambda r: ok(b"stored:" + r.body)
    client = await RawClient.connect(gateway.runtime.proxy_address)
    try:
        head = {**V6, "Expect": "100-continue", "Content-Length": "5"}
        await client.send(request_bytes("POST", PASS_THROUGH, head))
        interim = await client.answer()
        assert interim.head == b"HTTP/1.1 100 Continue\r\n\r\n"
        await client.send(b"hello")
        final = await client.answer()
        assert (final.status, final.body) == (200, b"stored:hello")
    finally:
        client.close()
    assert upstream.received[-1].header("Expect") is None
    assert upstream.received[-1].body == b"hello"


async def test_expect_100_continue_also_when_the_gateway_buffers_the_body(
    upstream: ScriptedUpstream, start_gateway: StartGateway
) -> None:
    """A v5 multi-insert on a v4 pin: the gateway reads the whole array before it calls the
    upstream (once per entity), so it must have asked for the body itself."""
    gateway = await start_gateway(upstream.url, pin=4)
    upstream.answer = lambda r: ok(r.body, "Content-Type: application/json")
    body = b'[{"_id":"a"},{"_id":"b"}]'
    client = await RawClient.connect(gateway.runtime.proxy_address)
    try:
        head = {
            "X-Kinvey-API-Version": "5",
            "Authorization": "Kinvey token",
            "Content-Type": "application/json",
            "Expect": "100-continue",
            "Content-Length": str(len(body)),
        }
        await client.send(request_bytes("POST", PASS_THROUGH, head))
        assert (await client.answer()).head == b"HTTP/1.1 100 Continue\r\n\r\n"
        await client.send(body)
        final = await client.answer()
        assert final.status == 201, final.body
    finally:
        client.close()
    assert sorted(r.body for r in upstream.received) == [b'{"_id":"a"}', b'{"_id":"b"}']
    assert all(r.header("Expect") is None for r in upstream.received)


async def test_no_100_continue_without_a_body_or_for_http_1_0(
    gateway: RunningGateway, upstream: ScriptedUpstream
) -> None:
    expecting = {**V6, "Expect": "100-continue"}
    first = await _one(gateway, request_bytes("GET", PASS_THROUGH, expecting))
    assert first.status == 200  # the first thing on the wire is the final answer
    old = b"POST %s HTTP/1.0\r\nX-Kinvey-API-Version: 6\r\nExpect: 100-continue\r\n" % (
        PASS_THROUGH.encode()
    )
    answer = await _one(gateway, old + b"Content-Length: 2\r\n\r\nhi")
    assert answer.head.startswith(b"HTTP/1.0 200 ")  # the final answer first: no 100 before it


# -- HEAD (RFC 9110 §9.3.2) ----------------------------------------------------------------


def _comparable(answer: RawAnswer) -> list[tuple[str, str]]:
    varying = {"date", "x-kinvey-request-id"}
    return sorted((k.lower(), v) for k, v in answer.headers if k.lower() not in varying)


REFUSED = b'{"error":"InvalidCredentials","description":"Invalid credentials","debug":"no"}'
USER_BASIC = {"X-Kinvey-API-Version": "5", "Authorization": "Basic YW5uOndyb25n"}  # ann:wrong


@pytest.mark.parametrize(
    ("case", "headers"),
    [
        ("upstream down", V6),
        ("version refused", {"X-Kinvey-API-Version": "99"}),
        ("refused login", USER_BASIC),  # a v5 client's user Basic, exchanged by the gateway
    ],
)
async def test_head_gets_what_get_gets_without_the_body_for_gateway_made_answers(
    upstream: ScriptedUpstream, start_gateway: StartGateway, case: str, headers: dict[str, str]
) -> None:
    url = upstream.url
    if case == "refused login":
        upstream.answer = lambda _: (
            b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(REFUSED), REFUSED)
        )
    else:
        await upstream.stop()  # nothing listens there any more: connect refused
    gateway = await start_gateway(url)
    got = await _one(gateway, request_bytes("GET", PASS_THROUGH, headers))
    client = await RawClient.connect(gateway.runtime.proxy_address)
    try:
        head = await client.request(request_bytes("HEAD", PASS_THROUGH, headers), "HEAD")
        # No body follows: the next answer on the connection starts right after the head.
        again = await client.request(request_bytes("HEAD", PASS_THROUGH, headers), "HEAD")
    finally:
        client.close()
    assert got.status == {"upstream down": 502, "version refused": 400, "refused login": 401}[case]
    assert got.body
    assert head.status == got.status == again.status
    assert _comparable(head) == _comparable(got)
    assert head.header("Content-Length") == str(len(got.body))


# -- what a body-less status carries (RFC 9110 §8.6, §15.4.5) ------------------------------


@pytest.mark.parametrize(
    ("upstream_answer", "content_length"),
    [
        (b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", None),
        (b"HTTP/1.1 204 No Content\r\n\r\n", None),
        (b'HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\nETag: "e"\r\n\r\n', "42"),
        (b'HTTP/1.1 304 Not Modified\r\nETag: "e"\r\n\r\n', None),
        (b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", None),
    ],
)
async def test_no_content_length_on_204_and_on_304_only_the_upstreams(
    gateway: RunningGateway,
    upstream: ScriptedUpstream,
    upstream_answer: bytes,
    content_length: str | None,
) -> None:
    upstream.answer = lambda _: upstream_answer
    client = await RawClient.connect(gateway.runtime.proxy_address)
    try:
        first = await client.request(request_bytes("GET", PASS_THROUGH, V6))
        second = await client.request(request_bytes("GET", PASS_THROUGH, V6))  # framing held
    finally:
        client.close()
    for answer in (first, second):
        assert answer.status == int(upstream_answer.rsplit(b"HTTP/1.1 ", 1)[1][:3])
        assert answer.header("Content-Length") == content_length
        assert answer.header("Transfer-Encoding") is None
        assert answer.body == b""
    assert upstream.connections == 1


async def test_an_unsolicited_101_is_a_502(
    gateway: RunningGateway, upstream: ScriptedUpstream
) -> None:
    """The gateway never forwards ``Upgrade``, so a 101 was not asked for (Envoy answers an
    upgrade it did not request with 502 too); the switched connection is not used again."""
    upstream.answer = lambda _: (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    )
    answer = await _one(gateway, request_bytes("GET", PASS_THROUGH, V6))
    assert answer.status == 502 and b"invalid HTTP response" in answer.body
    upstream.answer = lambda _: ok()
    assert (await _one(gateway, request_bytes("GET", PASS_THROUGH, V6))).body == b"ok"
    assert upstream.connections == 2


# -- messages stay apart ---------------------------------------------------------------------


async def test_trailer_fields_never_become_headers_of_the_next_answer(
    gateway: RunningGateway, upstream: ScriptedUpstream
) -> None:
    answers = iter(
        [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
            b"2\r\nhi\r\n0\r\nX-Checksum: secret-of-answer-one\r\n\r\n",
            ok(b"two"),
        ]
    )
    upstream.answer = lambda _: next(answers)
    first = await _one(gateway, request_bytes("GET", PASS_THROUGH, V6))
    second = await _one(gateway, request_bytes("GET", PASS_THROUGH, V6))
    assert (first.body, second.body) == (b"hi", b"two")
    assert upstream.connections == 1  # the same pooled upstream connection carried both
    for answer in (first, second):
        assert b"secret-of-answer-one" not in answer.head
        assert "x-checksum" not in answer.names()


async def test_a_transfer_coding_other_than_chunked_is_refused_not_passed_on_raw(
    gateway: RunningGateway, upstream: ScriptedUpstream
) -> None:
    """Transfer codings are hop-by-hop (RFC 9112 §6.1); nginx answers an upstream's unknown
    ``Transfer-Encoding`` with 502 ("upstream sent unknown Transfer-Encoding")."""
    coded = gzip.compress(b"plain text")
    upstream.answer = lambda _: (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        + b"%x\r\n%s\r\n0\r\n\r\n" % (len(coded), coded)
    )
    answer = await _one(gateway, request_bytes("GET", PASS_THROUGH, V6))
    assert answer.status == 502
    assert coded not in answer.body


@pytest.mark.parametrize(
    "answer",
    [
        ok(b"hi") + b"GARBAGE",
        b"HTTP/1.1 200 OK\nContent-Length: 2\n\nhiGARBAGE",  # bare LF line ends (lenient)
        ok(b"hi") + ok(b"an answer nobody asked for"),
    ],
)
async def test_a_complete_answer_followed_by_stray_bytes_is_delivered_and_not_reused(
    gateway: RunningGateway, upstream: ScriptedUpstream, answer: bytes
) -> None:
    upstream.answer = lambda r: answer if r.connection == 1 else ok(b"fresh")
    first = await _one(gateway, request_bytes("GET", PASS_THROUGH, V6))
    assert (first.status, first.body) == (200, b"hi")
    second = await _one(gateway, request_bytes("GET", PASS_THROUGH, V6))
    assert (second.status, second.body) == (200, b"fresh")
    assert upstream.connections == 2


# -- retries (nginx proxy_next_upstream error; Go net/http shouldRetryRequest) ---------------


@pytest.mark.parametrize(
    ("method", "body", "retried"),
    [
        ("DELETE", b"", True),
        ("PUT", b"", True),
        ("PUT", b'{"a":1}', False),  # streamed to the upstream as it came: cannot be sent again
        ("POST", b'{"a":1}', False),
    ],
)
async def test_an_idempotent_request_failing_on_a_reused_connection_is_retried_once(
    gateway: RunningGateway, upstream: ScriptedUpstream, method: str, body: bytes, retried: bool
) -> None:
    """The upstream closes the kept-alive connection as the request arrives (its keep-alive
    timeout raced ours): no byte of an answer came, so an idempotent request was not processed
    and is sent again on a fresh connection; a POST is not (it may have been), nor a body
    already streamed (a buffered one is: test_lean_client)."""
    await _one(gateway, request_bytes("GET", PASS_THROUGH, V6))  # connection 1, kept alive
    upstream.answer = lambda r: None if r.connection == 1 else ok(b"done")
    answer = await _one(gateway, request_bytes(method, PASS_THROUGH, V6, body))
    assert answer.status == (200 if retried else 502)
    assert [r.connection for r in upstream.received[1:]] == ([1, 2] if retried else [1])
    if retried:
        assert upstream.received[-1].body == body


async def test_no_retry_once_a_byte_of_the_answer_arrived(
    gateway: RunningGateway, upstream: ScriptedUpstream
) -> None:
    await _one(gateway, request_bytes("GET", PASS_THROUGH, V6))
    upstream.answer = upstream.then_close(b"HTTP/1.1 2")
    answer = await _one(gateway, request_bytes("DELETE", PASS_THROUGH, V6))
    assert answer.status == 502
    assert len(upstream.received) == 2


async def test_interim_answers_keep_the_final_answer_intact(
    gateway: RunningGateway, upstream: ScriptedUpstream
) -> None:
    upstream.answer = lambda _: (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n" + ok(b"x")
    )
    client = await RawClient.connect(gateway.runtime.proxy_address)
    try:
        for _ in range(2):
            answer = await client.request(request_bytes("GET", PASS_THROUGH, V6))
            assert (answer.status, answer.body) == (200, b"x")
    finally:
        client.close()
    await asyncio.sleep(0)
    assert upstream.connections == 1
