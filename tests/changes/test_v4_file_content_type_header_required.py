"""v4 FileContentTypeHeaderRequired: X-Kinvey-Content-Type on file metadata uploads."""

from __future__ import annotations

from typing import Any

import pytest

from tests.changes.support import (
    MASTER_AUTH,
    StartGatewayOnEmulator,
    answering,
    assert_untouched,
    make_request,
    metrics_of,
    run,
)
from tests.conftest import APP_KEY
from tests.support.kinvey_client import KinveyClient

HEADER = "X-Kinvey-Content-Type"


def _upload(method: str, client: int, pin: int, body: bytes, **headers: str) -> Any:
    path = "/blob/k" if method == "POST" else "/blob/k/f1"
    return make_request(method, path, client, pin, body=body, headers=headers)


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("pin", [4, 6])
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"_filename": "a.png", "mimeType": "image/png"}', "image/png"),
        (b'{"_filename": "a.bin"}', "application/octet-stream"),
        (b'{"mimeType": ""}', "application/octet-stream"),
        (b'{"mimeType": 7}', "application/octet-stream"),
        (b'{"mimeType": "text/plain\\r\\nX-Evil: 1"}', "application/octet-stream"),
        (b"", "application/octet-stream"),
    ],
)
async def test_v3_clients_get_the_header_from_the_metadata(
    method: str, pin: int, body: bytes, expected: str
) -> None:
    upstream = answering(201, {"_id": "f1"})
    response = await run(_upload(method, 3, pin, body), upstream)
    assert response.status == 201
    assert upstream.seen[0].headers[HEADER] == expected
    assert upstream.seen[0].body == body  # the metadata itself is not rewritten


async def test_a_header_the_client_sent_wins() -> None:
    upstream = answering(201, {})
    request = _upload("POST", 3, 6, b"not even json", **{HEADER: "image/gif"})
    await run(request, upstream)
    assert upstream.seen[0].headers[HEADER] == "image/gif"


@pytest.mark.parametrize(
    ("body", "error"), [(b"[1]", "BadRequest"), (b'"x"', "BadRequest"), (b"{", "JSONParseError")]
)
async def test_bad_metadata_is_a_400_not_a_crash(body: bytes, error: str) -> None:
    upstream = answering(201, {})
    response = await run(_upload("POST", 3, 6, body), upstream)
    assert (response.status, response.json["error"]) == (400, error)
    assert upstream.seen == []


@pytest.mark.parametrize("client", [4, 5, 6])
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_newer_clients_on_a_v3_upstream_must_send_it(client: int, method: str) -> None:
    upstream = answering(201, {})
    request = _upload(method, client, 3, b'{"mimeType": "image/png"}')
    response = await run(request, upstream)
    assert (response.status, response.json["error"]) == (400, "MissingRequestHeader")
    assert upstream.seen == []
    assert metrics_of(request).refused == [
        ("FileContentTypeHeaderRequired", "MissingRequestHeader")
    ]
    response = await run(_upload(method, client, 3, b"{}", **{HEADER: "a/b"}), upstream)
    assert response.status == 201
    assert upstream.seen[0].headers[HEADER] == "a/b"


async def test_other_blob_calls_are_left_alone() -> None:
    upstream = answering(200, {})
    await run(make_request("GET", "/blob/k/f1", 3, 6), upstream)
    await run(make_request("DELETE", "/blob/k/f1", 3, 6), upstream)
    assert all(HEADER not in seen.headers for seen in upstream.seen)


async def test_end_to_end_v3_client_on_a_v4_emulator(
    start_gateway_on_emulator: StartGatewayOnEmulator,
) -> None:
    gateway = await start_gateway_on_emulator(4)
    v3 = KinveyClient(gateway.url, 3, MASTER_AUTH)
    reply = await v3.call(
        "POST", f"/blob/{APP_KEY}", body={"_filename": "a.png", "mimeType": "image/png"}
    )
    assert reply.status == 201, reply.raw
    assert reply.json["mimeType"] == "image/png"
    # The same call as a v4 client is refused by the emulator itself: the header is needed.
    reply = await KinveyClient(gateway.url, 4, MASTER_AUTH).call(
        "POST", f"/blob/{APP_KEY}", body={"mimeType": "image/png"}
    )
    assert (reply.status, reply.json["error"]) == (400, "MissingRequestHeader")


async def test_end_to_end_v4_client_on_a_v3_emulator(
    start_gateway_on_emulator: StartGatewayOnEmulator,
) -> None:
    gateway = await start_gateway_on_emulator(3)
    v4 = KinveyClient(gateway.url, 4, MASTER_AUTH)
    reply = await v4.call("POST", f"/blob/{APP_KEY}", body={"mimeType": "image/png"})
    assert (reply.status, reply.json["error"]) == (400, "MissingRequestHeader")
    reply = await v4.call(
        "POST", f"/blob/{APP_KEY}", body={"mimeType": "image/png"}, headers={HEADER: "a/b"}
    )
    assert (reply.status, reply.json["mimeType"]) == (201, "a/b")


async def test_end_to_end_an_oversized_metadata_body_is_a_413(
    start_gateway_on_emulator: StartGatewayOnEmulator,
) -> None:
    gateway = await start_gateway_on_emulator(6, limits__max_buffered_body_bytes=1024)
    reply = await KinveyClient(gateway.url, 3, MASTER_AUTH).call(
        "POST", f"/blob/{APP_KEY}", body={"_filename": "x" * 4096}
    )
    assert reply.status == 413


@pytest.mark.parametrize(("client", "pin"), [(3, 4), (4, 3)])
async def test_entities_that_are_not_file_metadata_get_no_header_and_need_none(
    client: int, pin: int
) -> None:
    body = {"mimeType": "image/png"}
    await assert_untouched("POST", f"/appdata/{APP_KEY}/books", client, pin, body=body, status=201)
