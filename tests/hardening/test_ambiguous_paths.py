"""Paths an upstream (or a proxy before it) could read differently are refused with 400.

nginx, for one, resolves ``..`` and ``.`` segments (also percent-encoded ones) and merges
doubled slashes before routing (``merge_slashes`` is on by default); IIS takes a backslash for a
slash. ``/appdata/kid_open/../kid_locked/books`` would reach ``kid_locked`` there while the
gateway applied ``kid_open``'s policy. Refusing (rather than normalizing) keeps the bytes the
gateway forwards identical to what the client sent, and the app key the policy was applied to
the one any upstream acts on. Raw sockets: the request target is sent exactly as written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunningGateway, StartGateway
from tests.support.raw_gateway import raw_answer
from tests.upstream.scripted_upstream import ScriptedUpstream

AMBIGUOUS = [
    "/appdata/kid_open/../kid_locked/books",
    "/appdata/kid_open/%2e%2e/kid_locked/books",
    "/appdata/kid_open/%2E./kid_locked/books",
    "/appdata/./kid_locked/books",
    "/appdata//kid_locked/books",
    "/appdata/kid_locked//books",
    "/appdata/kid_open%2F..%2Fkid_locked/books",
    "/appdata/kid_open%2fkid_locked/books",
    "/appdata/kid_open\\..\\kid_locked/books",
    "/appdata/kid_open%5C..%5Ckid_locked/books",
    "/user/kid_open/..",
]


@pytest.fixture
async def gateway(
    upstream: ScriptedUpstream,
    start_gateway: StartGateway,
    tmp_path: Path,
) -> RunningGateway:
    config = tmp_path / "gateway.yaml"
    config.write_text("apps:\n  kid_locked:\n    min_client_api_version: 5\n")
    return await start_gateway(upstream.url, pin=6, config_file=str(config))


@pytest.mark.parametrize("path", AMBIGUOUS)
@pytest.mark.parametrize("absolute", [False, True], ids=["origin-form", "absolute-form"])
async def test_ambiguous_paths_are_refused_before_the_upstream(
    gateway: RunningGateway,
    upstream: ScriptedUpstream,
    path: str,
    absolute: bool,
) -> None:
    target = f"http://gw{path}" if absolute else path
    status, headers, body = await raw_answer(gateway, "GET", target, {"X-Kinvey-API-Version": "1"})
    assert status == 400, body
    error = json.loads(body)
    assert error["error"] == "BadRequest" and error["debug"].startswith("the path has"), error
    assert headers["content-type"].startswith("application/json")
    assert upstream.received == []


async def test_the_policy_applies_to_the_app_key_the_upstream_acts_on(
    gateway: RunningGateway,
    upstream: ScriptedUpstream,
) -> None:
    status, _, body = await raw_answer(
        gateway, "GET", "/appdata/kid_locked/books", {"X-Kinvey-API-Version": "1"}
    )
    assert (status, json.loads(body)["error"]) == (400, "APIVersionNotAvailable")
    assert upstream.received == []


@pytest.mark.parametrize(
    "path",
    [
        "/appdata/kid_open/books/",  # one trailing slash: the v3 SDK adds it
        "/appdata/kid_open/books/a%2Fb",  # an encoded slash in an entity id
        "/appdata/kid_open/books/.hidden",
        "/appdata/kid_open/books?query=%7B%22a%22%3A%22..%2F..%22%7D",  # the query is data
    ],
)
async def test_unambiguous_paths_are_forwarded_byte_for_byte(
    gateway: RunningGateway,
    upstream: ScriptedUpstream,
    path: str,
) -> None:
    status, _, _ = await raw_answer(gateway, "GET", path, {"X-Kinvey-API-Version": "6"})
    assert status == 200
    assert upstream.received[0].request_line == f"GET {path} HTTP/1.1"
