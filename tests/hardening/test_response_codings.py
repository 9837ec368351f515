"""Answers a change must read arrive in codings the gateway decodes; others are never relayed
untranslated.

A modern iOS app sends ``Accept-Encoding: gzip, deflate, br``. On a translated exchange the
gateway offers the upstream only gzip and deflate (no brotli decoder: one dependency fewer, and
Kinvey answers gzip), decodes the answer once, bounded, and frames the rewritten body itself.
Pass-through keeps the client's header and relays whatever coding comes back, bytes unchanged.
"""

from __future__ import annotations

import gzip
import json
import zlib

from tests.conftest import APP_KEY, RunningGateway, StartGateway
from tests.support.raw_gateway import Answer, raw_answer
from tests.upstream.scripted_upstream import Received, ScriptedUpstream

MODERN = "gzip, deflate, br"
BROTLI_COUNT = b'\x8b\x05\x80{"count":1}\x03'  # {"count":1} as an uncompressed brotli stream


def _answer(body: bytes, coding: str, status: str = "200 OK") -> bytes:
    return (
        b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Encoding: %s\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (status.encode(), coding.encode(), len(body), body)
    )


async def _modern_delete(gateway: RunningGateway, version: int) -> Answer:
    """A DELETE from a client at ``version`` that accepts brotli, as modern iOS apps do."""
    headers = {"X-Kinvey-API-Version": str(version), "Accept-Encoding": MODERN}
    return await raw_answer(gateway, "DELETE", f"/appdata/{APP_KEY}/books/b1", headers)


async def test_a_v1_delete_of_a_modern_client_still_becomes_204(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
) -> None:
    upstream.answer = lambda _: _answer(gzip.compress(b'{"count":1}'), "gzip")
    status, _, body = await _modern_delete(await start_gateway(upstream.url, pin=6), 1)
    assert (status, body) == (204, b"")
    assert upstream.received[0].header("Accept-Encoding") == "gzip, deflate"


async def test_a_json_rewrite_reads_a_deflated_answer_and_frames_the_new_body(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
) -> None:
    error = {"error": "EntityNotFound", "description": "gone", "debug": ""}
    deflated = zlib.compress(json.dumps(error).encode())
    upstream.answer = lambda _: _answer(deflated, "deflate", "404 Not Found")
    gateway = await start_gateway(upstream.url, pin=6)
    status, headers, body = await raw_answer(
        gateway,
        "GET",
        f"/appdata/{APP_KEY}/books/b1",
        {"X-Kinvey-API-Version": "0", "Accept-Encoding": MODERN},
    )
    assert status == 404
    assert json.loads(body) == {"error": "gone"}  # v0's shape, read through the coding
    assert "content-encoding" not in headers
    assert headers["content-length"] == str(len(body))


async def test_an_answer_in_a_coding_never_offered_is_a_502_not_relayed_untranslated(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
) -> None:
    upstream.answer = lambda _: _answer(BROTLI_COUNT, "br")
    status, headers, body = await _modern_delete(await start_gateway(upstream.url, pin=6), 1)
    assert status == 502
    error = json.loads(body)
    assert error["error"] == "KinveyInternalErrorRetry"
    assert "unsupported Content-Encoding 'br'" in error["debug"]
    assert "content-encoding" not in headers


async def test_pass_through_keeps_the_clients_accept_encoding_and_relays_brotli_as_is(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
) -> None:
    upstream.answer = lambda _: _answer(BROTLI_COUNT, "br")
    status, headers, body = await _modern_delete(await start_gateway(upstream.url, pin=6), 6)
    assert (status, body, headers["content-encoding"]) == (200, BROTLI_COUNT, "br")
    assert upstream.received[0].header("Accept-Encoding") == MODERN


async def test_a_translated_answer_bomb_is_refused_within_the_body_limit(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
) -> None:
    bomb = gzip.compress(gzip.compress(b'{"count":1' + b" " * (64 << 20) + b"}"))

    def answer(_: Received) -> bytes:
        return _answer(bomb, "gzip, gzip")

    upstream.answer = answer
    gateway = await start_gateway(upstream.url, pin=6, limits__max_buffered_body_bytes=1 << 20)
    status, _, body = await raw_answer(
        gateway, "DELETE", f"/appdata/{APP_KEY}/books/b1", {"X-Kinvey-API-Version": "1"}
    )
    assert status == 502
    assert json.loads(body)["debug"] == "the upstream answer is too large to translate"
    assert gateway.runtime.gateway.buffers.in_use == 0


async def test_an_empty_answer_labelled_gzip_is_relayed_not_refused(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
) -> None:
    upstream.answer = lambda _: _answer(b"", "gzip", "404 Not Found")
    gateway = await start_gateway(upstream.url, pin=6)
    # v0's error shaping loads every error answer: an empty one has nothing to undo.
    status, _, body = await raw_answer(
        gateway, "GET", f"/appdata/{APP_KEY}/books/b1", {"X-Kinvey-API-Version": "0"}
    )
    assert (status, body) == (404, b"")
