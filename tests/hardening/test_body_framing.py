"""Request bodies are forwarded as sent; a body a change reads is decoded once and re-framed.

Before: aiohttp's listener inflated ``Content-Encoding: gzip`` bodies and the gateway sent the
inflated bytes under the client's ``Content-Length``, so the bytes past that length reached a
pooled upstream connection as a second request (issue 12). nginx and Envoy forward a coded
body untouched, which is what pass-through does now: nginx's gunzip module "decompresses
responses" only (https://nginx.org/en/docs/http/ngx_http_gunzip_module.html); Envoy decodes a
request only with its decompressor filter configured, and then removes ``content-length``
(https://envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/decompressor_filter),
as the gateway re-frames the bodies it decodes. The upstream here records raw bytes.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import AsyncIterator

import pytest
from multidict import CIMultiDict

from gateway.http.upstream import UpstreamClient, UpstreamError
from tests.conftest import APP_KEY, StartGateway
from tests.support.raw_gateway import raw_answer
from tests.upstream.scripted_upstream import ScriptedUpstream, ok
from tests.upstream.test_lean_client import client, counts  # noqa: F401 - fixtures

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
ENTITY = ok(b'{"_id":"e1"}', "Content-Type: application/json")


def smuggling_gzip() -> tuple[bytes, bytes]:
    """(compressed, inflated): the inflated bytes past ``len(compressed)`` are a request."""
    size = 0
    while True:
        inflated = b"x" * size + SMUGGLED
        compressed = gzip.compress(inflated, mtime=0)
        if len(compressed) == size:
            return compressed, inflated
        size = len(compressed)


def _only_request(recorder: ScriptedUpstream) -> tuple[str, dict[str, str], bytes]:
    assert len(recorder.received) == 1, [r.request_line for r in recorder.received]
    seen = recorder.received[0]
    return seen.request_line, {k.lower(): v for k, v in seen.headers}, seen.body


def _headers(version: int, coding: str = "gzip") -> dict[str, str]:
    return {
        "X-Kinvey-API-Version": str(version),
        "Content-Type": "application/json",
        "Content-Encoding": coding,
    }


async def test_a_smuggling_gzip_body_passes_through_as_one_request_byte_for_byte(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
) -> None:
    upstream.answer = lambda _: ENTITY
    gateway = await start_gateway(upstream.url, pin=6)
    compressed, _ = smuggling_gzip()
    path = f"/appdata/{APP_KEY}/books"
    status, _, _ = await raw_answer(gateway, "POST", path, _headers(6), compressed)
    assert status == 200
    line, headers, body = _only_request(upstream)
    assert line == f"POST {path} HTTP/1.1"
    assert body == compressed
    assert headers["content-encoding"] == "gzip"
    assert headers["content-length"] == str(len(compressed))
    # The pooled connection is still in step: the next request is the next one upstream.
    status, _, _ = await raw_answer(gateway, "GET", path, {"X-Kinvey-API-Version": "6"})
    assert status == 200
    assert [r.request_line for r in upstream.received][1] == f"GET {path} HTTP/1.1"


async def test_a_large_gzip_upload_on_pass_through_is_relayed_without_hanging(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
) -> None:
    upstream.answer = lambda _: ENTITY
    gateway = await start_gateway(upstream.url, pin=6)
    compressed = gzip.compress(json.dumps({"n": list(range(300_000))}).encode(), mtime=0)
    status, _, _ = await raw_answer(
        gateway, "PUT", f"/appdata/{APP_KEY}/books/b1", _headers(6), compressed
    )
    assert status == 200
    _, headers, body = _only_request(upstream)
    assert (body, headers["content-encoding"]) == (compressed, "gzip")


async def test_a_translated_route_decodes_once_and_reframes(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
) -> None:
    upstream.answer = lambda _: ENTITY
    gateway = await start_gateway(upstream.url, pin=6)
    compressed, inflated = smuggling_gzip()
    # A v4 client's POST is read by the multi-insert gate (issue 5's change).
    status, _, _ = await raw_answer(
        gateway, "POST", f"/appdata/{APP_KEY}/books", _headers(4), compressed
    )
    assert status == 200
    _, headers, body = _only_request(upstream)
    assert body == inflated
    assert headers["content-length"] == str(len(inflated))
    assert "content-encoding" not in headers


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b, wbits=-15)),  # raw deflate, as some send it
        ("identity, x-gzip", gzip.compress),
        ("gzip", lambda b: gzip.compress(b[:5]) + gzip.compress(b[5:])),  # two members
    ],
    ids=["gzip-twice", "deflate", "raw-deflate", "identity-then-x-gzip", "two-gzip-members"],
)
async def test_stacked_and_variant_codings_are_decoded_on_translated_routes(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
    coding: str,
    encode: object,
) -> None:
    upstream.answer = lambda _: ENTITY
    gateway = await start_gateway(upstream.url, pin=6)
    entity = json.dumps({"title": "Dune", "pages": 412}).encode()
    assert callable(encode)
    status, _, _ = await raw_answer(
        gateway, "POST", f"/appdata/{APP_KEY}/books", _headers(4, coding), encode(entity)
    )
    assert status == 200
    _, headers, body = _only_request(upstream)
    assert (body, "content-encoding" in headers) == (entity, False)


@pytest.mark.parametrize(
    ("coding", "body", "status", "debug"),
    [
        ("br", b"\x1b\x03\x00", 415, "unsupported Content-Encoding 'br'"),
        ("gzip, zstd", b"x", 415, "unsupported Content-Encoding 'zstd'"),
        ("gzip", b"not gzip at all", 400, "cannot decode the gzip body"),
        ("gzip", gzip.compress(b'{"a": 1}', mtime=0)[:-12], 400, "truncated"),
    ],
    ids=["br", "zstd-stacked", "not-gzip", "truncated-gzip"],
)
async def test_codings_the_gateway_cannot_undo_are_refused_before_the_upstream(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
    coding: str,
    body: bytes,
    status: int,
    debug: str,
) -> None:
    gateway = await start_gateway(upstream.url, pin=6)
    answer = await raw_answer(
        gateway, "POST", f"/appdata/{APP_KEY}/books", _headers(4, coding), body
    )
    assert answer[0] == status
    error = json.loads(answer[2])
    assert error["error"] == "BadRequest" and debug in error["debug"], error
    assert upstream.received == []


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.mark.parametrize(
    ("body", "announced"),
    [
        (b"abcdef", "4"),  # a buffered body longer than announced: never sent
        (b"ab", "4"),
        (b"", "4"),
        ("stream", "4"),  # streamed: cut at the announced end, connection dropped
        ("stream", "9"),
    ],
)
async def test_the_upstream_client_refuses_a_body_that_differs_from_its_content_length(
    client: UpstreamClient,  # noqa: F811
    upstream: ScriptedUpstream,
    body: bytes | str,
    announced: str,
) -> None:
    sent = _chunks(b"abc", b"def") if body == "stream" else body
    assert not isinstance(sent, str)
    headers = CIMultiDict({"Content-Length": announced})
    with pytest.raises(UpstreamError) as refused:
        response = await client.send(upstream.url, "POST", "/p", headers, sent)
        response.release()
    assert refused.value.status == 502
    assert "did not match its length" in refused.value.debug
    assert upstream.received == []  # not one request, let alone two
    assert client.connections_in_use() == 0
