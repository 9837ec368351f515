"""Property-based bad input at the HTTP level, and classic request-smuggling payloads.

Every case gets a well-formed HTTP response (a Kinvey-shaped error where the gateway answers),
the gateway stays up, no request reaches any host but the configured upstream, and no request
is smuggled: the upstream sees at most the one request the client meant to send.
Examples are derandomized (a fixed seed) and bounded; ``FUZZ_EXAMPLES=5000`` runs longer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from gateway.app import GatewayRuntime
from gateway.settings import load_settings
from tests.support.background import (
    BackgroundLoop,
    fuzz_settings,
    raw_exchange,
    serve_app,
    split_responses,
)
from tests.support.echo_upstream import EchoUpstream

FUZZ = fuzz_settings(150)


@dataclass
class Stack:
    background: BackgroundLoop
    upstream: EchoUpstream
    decoy: EchoUpstream
    decoy_port: int
    port: int


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    background = BackgroundLoop()
    upstream, decoy = EchoUpstream(), EchoUpstream()

    async def start() -> tuple[list[web.AppRunner], GatewayRuntime, int, int]:
        up_runner, up_port = await serve_app(upstream.app())
        decoy_runner, decoy_port = await serve_app(decoy.app())
        runtime = GatewayRuntime(
            load_settings(
                None,
                {},
                {
                    "upstream.url": f"http://127.0.0.1:{up_port}",
                    "upstream.api_version": 6,
                    "listen": "127.0.0.1:0",
                    "admin_listen": "127.0.0.1:0",
                    "logging.access_log": False,
                    "limits.max_header_bytes": 8192,
                },
            )
        )
        await runtime.start()
        return [up_runner, decoy_runner], runtime, decoy_port, runtime.proxy_address[1]  # type: ignore[index]

    runners, runtime, decoy_port, port = background.run(start())
    yield Stack(background, upstream, decoy, decoy_port, port)

    async def stop() -> None:
        await runtime.stop()
        for runner in runners:
            await runner.cleanup()

    background.close(stop)


def _check_wellformed(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    responses = split_responses(raw)
    assert responses, f"no well-formed HTTP response: {raw[:200]!r}"
    for status, headers, body in responses:
        assert 100 <= status <= 599
        assert status != 500, body
        if status >= 400 and headers.get("content-type", "").startswith("application/json"):
            error = json.loads(body)
            assert {"error", "description", "debug"} <= set(error), error
    return responses


def _still_serving(stack: Stack) -> None:
    responses = split_responses(
        raw_exchange(
            stack.port, b"GET /appdata/kid_x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
    )
    assert responses and responses[0][0] == 200


header_names = st.sampled_from(
    [
        "X-Kinvey-API-Version",
        "x-kinvey-api-version",
        "Content-Length",
        "Transfer-Encoding",
        "Host",
        "Authorization",
        "Connection",
        "X-Custom",
        "Content-Type",
        "Expect",
        "Upgrade",
    ]
)
header_values = st.one_of(
    st.text(st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=40),
    st.sampled_from(
        [
            "6",
            "0",
            "7",
            "-1",
            "abc",
            "chunked",
            "gzip, chunked",
            "100-continue",
            "close, X-Custom",
            "9" * 50,
            "1.0",
            " 3 ",
        ]
    ),
    st.integers(min_value=0, max_value=10**12).map(str),
    st.just("x" * 20000),
)


@FUZZ
@given(
    headers=st.lists(st.tuples(header_names, header_values), max_size=6),
    obs_fold=st.booleans(),
    body=st.binary(max_size=64),
)
def test_random_headers_get_wellformed_answers(
    stack: Stack, headers: list[tuple[str, str]], obs_fold: bool, body: bytes
) -> None:
    lines = [b"POST /appdata/kid_x/books HTTP/1.1", b"Host: gw"]
    for name, value in headers:
        lines.append(name.encode() + b": " + value.encode("utf-8", "surrogateescape"))
    if obs_fold:
        lines.append(b"X-Folded: first\r\n  second")
    lines.append(b"Connection: close")
    payload = b"\r\n".join(lines) + b"\r\n\r\n" + body
    _check_wellformed(raw_exchange(stack.port, payload))
    assert stack.decoy.seen == []


path_parts = st.one_of(
    st.sampled_from(
        [
            "appdata",
            "kid_x",
            "user",
            "blob",
            "..",
            ".",
            "%2F",
            "%2e%2e",
            "%00",
            "_count",
            "login",
            "upload-loc",
            "//",
            "%",
            "%zz",
            "a%2Fb",
            "%C3%A9",
        ]
    ),
    st.text(
        st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="?#"), max_size=12
    ),
)


@FUZZ
@given(
    parts=st.lists(path_parts, max_size=8),
    absolute=st.booleans(),
    long_tail=st.integers(min_value=0, max_value=12000),
)
def test_random_paths_never_leave_the_configured_upstream(
    stack: Stack, parts: list[str], absolute: bool, long_tail: int
) -> None:
    path = "/" + "/".join(parts) + ("a" * long_tail if long_tail > 10000 else "")
    target = f"http://127.0.0.1:{stack.decoy_port}{path}" if absolute else path
    payload = (
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{stack.decoy_port}\r\nConnection: close\r\n\r\n"
    ).encode()
    responses = _check_wellformed(raw_exchange(stack.port, payload))
    assert stack.decoy.seen == []
    if responses[0][0] == 200 and stack.upstream.seen:
        assert stack.upstream.header("Host") != f"127.0.0.1:{stack.decoy_port}"


SMUGGLING = {
    "CL.TE": b"POST /appdata/kid_x/a HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nX: y",
    "TE.CL": b"POST /appdata/kid_x/a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n5c\r\nGPOST /smuggled HTTP/1.1\r\n"
    b"Content-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n",
    "TE.TE obfuscated": b"POST /appdata/kid_x/a HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n"
    b"Content-Length: 4\r\n\r\n5c\r\nGPOST /smuggled HTTP/1.1\r\n\r\n0\r\n\r\n",
    "TE with space": b"POST /appdata/kid_x/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked"
    b"\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
    "duplicate CL": b"POST /appdata/kid_x/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
    b"Content-Length: 44\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
    "chunk ext LF": b"POST /appdata/kid_x/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
    b"\r\n\r\n2;\nxx\r\n45\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    b"0\r\n\r\n",
}


@pytest.mark.parametrize("name", list(SMUGGLING))
def test_request_smuggling_is_rejected_or_forwarded_as_exactly_one_request(
    stack: Stack, name: str
) -> None:
    before = len(stack.upstream.seen)
    responses = _check_wellformed(raw_exchange(stack.port, SMUGGLING[name]))
    forwarded = stack.upstream.seen[before:]
    assert len(forwarded) <= 1, [s.raw_path for s in forwarded]
    assert all("smuggled" not in s.raw_path for s in forwarded)
    if not forwarded:
        assert responses[0][0] == 400
        assert json.loads(responses[0][2])["error"] == "BadRequest"
    assert len(responses) == 1  # one request in, one answer out: nothing queued behind it
    _still_serving(stack)
