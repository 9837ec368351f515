"""Random bodies in random content codings, on pass-through and translated routes.

Codings: gzip, x-gzip, deflate, br (opaque bytes: the gateway has no brotli decoder), identity,
stacked up to four deep; some bodies are a gzip bomb (64 kB inflating to 64 MiB) under more
codings; some requests lie with a ``Content-Length`` shorter than the body and have a
pipelined request after it (the body's tail must not let a second request through). For every
case: at most one request reaches the byte-recording upstream; pass-through forwards the
announced bytes and the client's ``Content-Encoding`` untouched; a translated request arrives
decoded, framed by its true length; the answer is well-formed and below 500; the allocations
traced while it is answered stay bounded (``tracemalloc``); and every buffered byte is given
back to the budget. ``FUZZ_EXAMPLES`` makes it longer.
"""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.app import GatewayRuntime
from gateway.settings import load_settings
from tests.hardening.test_fuzz_requests import _check_wellformed
from tests.hardening.test_fuzz_translated_bodies import bodies
from tests.support.background import BackgroundLoop, fuzz_settings, raw_exchange
from tests.support.raw_gateway import request_bytes
from tests.upstream.scripted_upstream import ScriptedUpstream, ok

FUZZ = fuzz_settings(120)
LIMIT = 65536
ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": lambda data: b"\x1b" + data,  # opaque: only pass-through may carry it
    "identity": lambda data: data,
}
# (translated?, client version, method, path): one upstream call each at most (pin 6).
ROUTES = [
    (False, 6, "POST", "/appdata/kid_x/things"),
    (False, 6, "PUT", "/appdata/kid_x/things/e1"),
    (True, 4, "POST", "/appdata/kid_x/things"),  # the multi-insert gate reads the body
    (True, 3, "POST", "/blob/kid_x"),  # X-Kinvey-Content-Type from the body's mimeType
]


@dataclass
class Stack:
    background: BackgroundLoop
    upstream: ScriptedUpstream
    runtime: GatewayRuntime
    port: int


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    background = BackgroundLoop()
    upstream = ScriptedUpstream(lambda _: ok(b'{"_id":"e1"}', "Content-Type: application/json"))

    async def start() -> GatewayRuntime:
        await upstream.start()
        runtime = GatewayRuntime(
            load_settings(
                None,
                {},
                {
                    "upstream.url": upstream.url,
                    "upstream.api_version": 6,
                    "listen": "127.0.0.1:0",
                    "admin_listen": "127.0.0.1:0",
                    "logging.access_log": False,
                    "limits.max_buffered_body_bytes": LIMIT,
                    "limits.max_buffered_bytes_total": 4 * LIMIT,
                },
            )
        )
        await runtime.start()
        return runtime

    runtime = background.run(start())
    yield Stack(background, upstream, runtime, runtime.proxy_address[1])  # type: ignore[index]

    async def stop() -> None:
        await runtime.stop()
        await upstream.stop()

    background.close(stop)


# 64 MiB of JSON whitespace, gzipped once here (64 kB); more codings are stacked per example.
BOMB = gzip.compress(b"[" + b" " * (64 << 20) + b"]", mtime=0)
# Traced allocations while one example is answered: a few copies of a body of at most LIMIT
# decoded bytes, its JSON, the sockets' buffers; inflating the bomb would be 64 MiB.
PEAK_BOUND = 32 * LIMIT

codings_to_apply = st.lists(st.sampled_from(sorted(ENCODERS)), max_size=3)
# (payload, codings it already has, codings to apply on top)
coded_bodies = st.tuples(bodies, st.just([]), codings_to_apply) | st.tuples(
    st.just(BOMB), st.just(["gzip"]), codings_to_apply
)


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    case=coded_bodies,
    short_by=st.sampled_from([0, 0, 1, 7]),
)
def test_coded_bodies_reach_the_upstream_at_most_once_as_they_should(
    stack: Stack,
    route: tuple[bool, int, str, str],
    case: tuple[bytes, list[str], list[str]],
    short_by: int,
) -> None:
    translated, version, method, path = route
    body, codings, more = case
    for coding in more:
        body = ENCODERS[coding](body)
    codings = codings + more
    announced = max(len(body) - short_by, 0)
    headers = {"X-Kinvey-API-Version": str(version), "Content-Length": str(announced)}
    if codings:
        headers["Content-Encoding"] = ", ".join(codings)
    payload = request_bytes(method, path, headers, body, close=not short_by)
    if short_by:  # what a smuggler would do: the body's tail starts the next request
        payload += request_bytes("GET", path, {"X-Kinvey-API-Version": "6"})
    before = len(stack.upstream.received)

    tracemalloc.start()
    try:
        raw = raw_exchange(stack.port, payload, idle=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    responses = _check_wellformed(raw)
    assert peak < PEAK_BOUND, f"{peak} bytes traced"
    seen = stack.upstream.received[before:]
    assert len(seen) <= 1, [r.request_line for r in seen]
    assert stack.runtime.gateway.buffers.in_use == 0
    if not seen:
        assert responses[0][0] >= 400
        return
    forwarded = {name.lower(): value for name, value in seen[0].headers}
    if translated:
        assert "content-encoding" not in forwarded
        assert forwarded["content-length"] == str(len(seen[0].body))
        assert len(seen[0].body) <= LIMIT
    else:
        assert seen[0].body == body[:announced]
        assert forwarded.get("content-encoding") == headers.get("Content-Encoding")
