"""Random JSON (and not-JSON) bodies on every route a version change reads.

A gateway pinned to 6 in front of a v6-only emulator (older clients: backward translation),
and one pinned to 5 in front of a v5-only emulator (v6 clients: forward emulation). Every case
gets a well-formed answer below 500 — a Kinvey error body in the client's shape when it is an
error — and the gateway keeps serving. Derandomized; ``FUZZ_EXAMPLES`` makes it longer.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from gateway.app import GatewayRuntime
from gateway.emulator import EmulatorConfig, create_emulator_app
from gateway.settings import load_settings
from tests.support.background import (
    BackgroundLoop,
    fuzz_settings,
    raw_exchange,
    serve_app,
    split_responses,
)

APP_KEY, APP_SECRET = "kid_fuzz", "fuzz-secret"
FUZZ = fuzz_settings(120)
APP_AUTH = "Basic " + base64.b64encode(f"{APP_KEY}:{APP_SECRET}".encode()).decode()
USER_AUTH = "Basic " + base64.b64encode(b"fuzzer:pw").decode()

# (pin, client version, method, path, authorization): routes whose bodies a change reads.
TRANSLATED = [
    (6, 4, "POST", f"/appdata/{APP_KEY}/things", APP_AUTH),  # multi-insert gate
    (6, 3, "POST", f"/user/{APP_KEY}", APP_AUTH),  # signup, then login for the token
    (6, 0, "POST", f"/user/{APP_KEY}", APP_AUTH),
    (6, 3, "POST", f"/user/{APP_KEY}/login", APP_AUTH),  # login answer unwrapped
    (6, 3, "POST", f"/blob/{APP_KEY}", APP_AUTH),  # X-Kinvey-Content-Type from mimeType
    (6, 2, "PUT", f"/user/{APP_KEY}/u1", USER_AUTH),  # password change through Basic exchange
    (6, 3, "POST", f"/appdata/{APP_KEY}/things", USER_AUTH),  # Basic exchange around a write
    (5, 6, "POST", f"/appdata/{APP_KEY}/things", APP_AUTH),  # multi-insert fanned out
    (5, 6, "POST", f"/user/{APP_KEY}/login", APP_AUTH),  # login answer wrapped
    (5, 6, "POST", f"/user/{APP_KEY}", APP_AUTH),  # signup token removed
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "_id",
                    "username",
                    "password",
                    "mimeType",
                    "_filename",
                    "size",
                    "_kmd",
                    "title",
                    "$where",
                    "",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(json_values, min_size=0, max_size=120).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    st.integers(min_value=1, max_value=5000).map(lambda n: b"[" * n + b"]" * n),
    st.just(b'{"username": "a", "password": 1e999}'),
)


@dataclass
class Stacks:
    background: BackgroundLoop
    ports: dict[int, int]  # pin -> gateway port


@pytest.fixture(scope="module")
def stacks() -> Iterator[Stacks]:
    background = BackgroundLoop()
    runners: list[web.AppRunner] = []
    runtimes: list[GatewayRuntime] = []

    async def start(pin: int) -> int:
        config = EmulatorConfig(
            app_key=APP_KEY,
            app_secret=APP_SECRET,
            master_secret="m",
            min_api_version=pin,
            max_api_version=pin,
            default_api_version=pin,
        )
        runner, upstream_port = await serve_app(create_emulator_app(config))
        runners.append(runner)
        runtime = GatewayRuntime(
            load_settings(
                None,
                {f"KINVEY_GATEWAY_APP_SECRET_{APP_KEY}": APP_SECRET},
                {
                    "upstream.url": f"http://127.0.0.1:{upstream_port}",
                    "upstream.api_version": pin,
                    "listen": "127.0.0.1:0",
                    "admin_listen": "127.0.0.1:0",
                    "logging.access_log": False,
                    "limits.max_buffered_body_bytes": 65536,
                },
            )
        )
        await runtime.start()
        runtimes.append(runtime)
        return runtime.proxy_address[1]  # type: ignore[index]

    ports = {pin: background.run(start(pin)) for pin in (5, 6)}
    yield Stacks(background, ports)

    async def stop() -> None:
        for runtime in runtimes:
            await runtime.stop()
        for runner in runners:
            await runner.cleanup()

    background.close(stop)


def _send(
    port: int, version: int, method: str, path: str, auth: str, body: bytes
) -> tuple[int, dict[str, str], bytes]:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: gw\r\nX-Kinvey-API-Version: {version}\r\n"
        f"Authorization: {auth}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    responses = split_responses(raw_exchange(port, head.encode() + body, idle=10))
    assert responses, "no well-formed HTTP response"
    return responses[0]


@FUZZ
@given(route=st.sampled_from(TRANSLATED), body=bodies)
def test_random_bodies_on_translated_routes(
    stacks: Stacks, route: tuple[int, int, str, str, str], body: bytes
) -> None:
    pin, version, method, path, auth = route
    status, headers, payload = _send(stacks.ports[pin], version, method, path, auth, body)
    assert status < 500, payload
    assert headers.get("x-kinvey-api-version") == str(version)
    if status >= 400 and payload:
        error = json.loads(payload)
        expected = {"error"} if version == 0 else {"error", "description", "debug"}
        assert set(error) >= expected and isinstance(error["error"], str), error


def test_oversized_body_on_a_translated_route_is_413(stacks: Stacks) -> None:
    body = json.dumps({"username": "big", "password": "x" * 70000}).encode()
    status, _, payload = _send(stacks.ports[6], 3, "POST", f"/user/{APP_KEY}", APP_AUTH, body)
    assert status == 413
    assert json.loads(payload)["error"] == "BadRequest"


def test_malformed_json_is_json_parse_error_without_calling_upstream(stacks: Stacks) -> None:
    status, _, payload = _send(
        stacks.ports[6], 4, "POST", f"/appdata/{APP_KEY}/things", APP_AUTH, b"[{not json"
    )
    assert status == 400
    assert json.loads(payload)["error"] == "JSONParseError"
