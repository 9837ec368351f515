"""End to end: old clients' file flows through a real gateway, and its signed file URLs.

The v3 emulation of upload-loc / download-loc / remove-loc in front of the real emulator
(whose upload URLs need ``x-goog-acl: private``), the ``/_gateway/files/<token>`` handler
(streaming uploads, deferred deletes) and its refusals.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.kinvey.file_tickets import RemovalTicket, UploadTicket, removal_url, upload_url
from gateway.kinvey.signing import UrlSigner
from tests.changes.support import MASTER_AUTH, StartEmulator, StartGatewayOnEmulator
from tests.conftest import APP_KEY, StartGateway, StartUpstream
from tests.support.kinvey_client import KinveyClient, Reply, basic

SIGNING_SECRET = b"test-url-signing-secret"  # what tests/conftest.py configures
GATEWAY_FILES = "/_gateway/files/"


async def _plain(method: str, url: str, data: Any = None, **headers: str) -> Reply:
    """What an old client does with a URI: a bare request, no Kinvey headers."""
    return await KinveyClient("", None).call(method, url, data=data, headers=headers)


async def _new_user(gateway_url: str, name: str) -> None:
    reply = await KinveyClient(gateway_url, 6, MASTER_AUTH).call(
        "POST", f"/user/{APP_KEY}", body={"username": name, "password": "pw"}
    )
    assert reply.status == 201, reply.raw


@pytest.mark.parametrize(
    ("client", "pin", "user"),
    [(0, 6, True), (1, 3, True), (2, 6, False), (2, 4, True)],
)
async def test_the_whole_old_file_flow_on_a_files_api_emulator(
    start_gateway_on_emulator: StartGatewayOnEmulator, client: int, pin: int, user: bool
) -> None:
    gateway = await start_gateway_on_emulator(pin, versions=(pin, 6))
    auth = MASTER_AUTH
    if user:  # v0 apps send Basic user credentials; on a v6 upstream they become a session
        await _new_user(gateway.url, "ann")
        auth = basic("ann", "pw")
    old = KinveyClient(gateway.url, client, auth)
    name = "notes%20v1.txt"
    content = b"old client bytes \x00\xff" * 1000

    reply = await old.call(
        "GET", f"/blob/{APP_KEY}/upload-loc/{name}", headers={"Content-Type": "text/plain"}
    )
    assert reply.status == 200, reply.raw
    upload = reply.json["URI"]
    assert upload.startswith(gateway.url + GATEWAY_FILES)  # the emulator needs x-goog-acl
    stored = await _plain("PUT", upload, content, **{"Content-Type": "text/plain"})
    assert stored.status == 200, stored.raw

    reply = await old.call("GET", f"/blob/{APP_KEY}/download-loc/{name}")
    if client >= 2:
        assert reply.status == 200
        download = reply.json["URI"]
    else:
        assert (reply.status, reply.raw) == (302, b"")
        download = reply.headers["Location"]
    fetched = await _plain("GET", download)
    assert (fetched.status, fetched.raw) == (200, content)
    assert fetched.headers["Content-Type"].startswith("text/plain")

    reply = await old.call("GET", f"/blob/{APP_KEY}/remove-loc/{name}")
    assert reply.status == 200
    remove = reply.json["URI"]
    assert remove.startswith(gateway.url + GATEWAY_FILES)
    assert (await old.call("GET", f"/blob/{APP_KEY}/download-loc/{name}")).status in (200, 302)

    deleted = await _plain("DELETE", remove)
    assert (deleted.status, deleted.raw) == (204, b"")
    assert "Content-Type" not in deleted.headers
    gone = await old.call("GET", f"/blob/{APP_KEY}/download-loc/{name}")
    assert gone.status == 404
    again = await _plain("DELETE", remove)
    assert again.status == 404
    assert (set(again.json) == {"error"}) is (client == 0)
    assert again.headers["X-Kinvey-API-Version"] == str(client)


async def test_remove_loc_of_a_missing_file_is_blob_not_found(
    start_gateway_on_emulator: StartGatewayOnEmulator,
) -> None:
    gateway = await start_gateway_on_emulator(6)
    reply = await KinveyClient(gateway.url, 2, MASTER_AUTH).call(
        "GET", f"/blob/{APP_KEY}/remove-loc/none"
    )
    assert (reply.status, reply.json["error"]) == (404, "BlobNotFound")


async def _uploaded_file(gateway_url: str, name: str) -> tuple[str, str]:
    """An uploaded file's name and a removal URI for it, as a v2 client."""
    old = KinveyClient(gateway_url, 2, MASTER_AUTH)
    reply = await old.call("GET", f"/blob/{APP_KEY}/upload-loc/{name}")
    assert (await _plain("PUT", reply.json["URI"], b"data")).status == 200
    reply = await old.call("GET", f"/blob/{APP_KEY}/remove-loc/{name}")
    return name, reply.json["URI"]


async def _still_there(gateway_url: str, name: str) -> bool:
    reply = await KinveyClient(gateway_url, 2, MASTER_AUTH).call(
        "GET", f"/blob/{APP_KEY}/download-loc/{name}"
    )
    return reply.status == 200


def _altered(uri: str) -> list[str]:
    token = uri.rsplit("/", 1)[1]
    middle = len(token) // 2
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    base = uri[: -len(token)]
    return [base + flipped, base + token[:-2], base + token + "AA", base + "not-a-token"]


async def test_forged_altered_misused_and_expired_urls_are_refused(
    start_gateway_on_emulator: StartGatewayOnEmulator,
) -> None:
    gateway = await start_gateway_on_emulator(6)
    name, remove = await _uploaded_file(gateway.url, "keep.txt")
    base = gateway.url
    ticket = RemovalTicket(APP_KEY, name, f"/blob/{APP_KEY}/{name}", 2)
    expired = removal_url(UrlSigner(SIGNING_SECRET, 60, lambda: time.time() - 3600), base, ticket)
    forged = removal_url(UrlSigner(b"another secret", 60), base, ticket)
    attempts = [("DELETE", uri) for uri in [*_altered(remove), forged, expired]]
    attempts += [("GET", remove), ("PUT", remove), ("POST", remove)]
    for method, uri in attempts:
        reply = await _plain(method, uri)
        assert reply.status == 403, (method, uri)
        assert reply.json["error"] == "InsufficientCredentials"
    reply = await _plain("DELETE", expired)
    assert "expired" in reply.json["debug"]
    refusals = gateway.registry.get_sample_value(
        "kgw_gateway_errors_total", {"reason": "bad_request"}
    )
    assert refusals == len(attempts) + 1
    assert await _still_there(gateway.url, name)
    assert (await _plain("DELETE", remove)).status == 204  # the genuine URL still works
    assert not await _still_there(gateway.url, name)


@pytest.mark.parametrize("client", [0, 2])
async def test_a_removal_for_an_app_no_longer_configured_is_refused_in_the_clients_shape(
    start_gateway_on_emulator: StartGatewayOnEmulator, client: int
) -> None:
    """The sealed URL is genuine but its app (and so its secret) left the config: nothing is
    sent, and the old client gets the gateway's one error answer in its own version's shape."""
    gateway = await start_gateway_on_emulator(6)
    ticket = RemovalTicket("kid_gone", "a.txt", "/blob/kid_gone/a.txt", client)
    reply = await _plain("DELETE", removal_url(UrlSigner(SIGNING_SECRET, 60), gateway.url, ticket))
    assert reply.status == 500
    assert reply.headers["X-Kinvey-API-Version"] == str(client)
    assert reply.headers["Server"] == "kinvey-gateway"
    assert reply.headers["X-Kinvey-Request-Id"]
    if client == 0:
        assert set(reply.json) == {"error"}
    else:
        assert reply.json["error"] == "KinveyInternalErrorStop"
        assert reply.json["debug"] == "no app secret for this app"


async def test_a_sealed_upload_url_refuses_other_methods(
    start_emulator: StartEmulator, start_gateway: StartGateway
) -> None:
    emulator = await start_emulator(min_api_version=6, max_api_version=6)
    gateway = await start_gateway(emulator, pin=6)
    reply = await KinveyClient(gateway.url, 2, MASTER_AUTH).call(
        "GET", f"/blob/{APP_KEY}/upload-loc/a"
    )
    for method in ("GET", "DELETE", "POST"):
        assert (await _plain(method, reply.json["URI"])).status == 403
    past = UrlSigner(SIGNING_SECRET, 60, lambda: time.time() - 3600)
    ticket = UploadTicket(APP_KEY, "a", f"{emulator}/_storage/x", {"x-goog-acl": "private"}, 2)
    reply = await _plain("PUT", upload_url(past, gateway.url, ticket), b"bytes")
    assert (reply.status, reply.json["error"]) == (403, "InsufficientCredentials")
    assert "expired" in reply.json["debug"]


async def test_urls_start_with_the_configured_public_base_url(
    start_gateway_on_emulator: StartGatewayOnEmulator,
) -> None:
    public = "https://files.example.com/gw"
    gateway = await start_gateway_on_emulator(6, public_base_url=public)
    reply = await KinveyClient(gateway.url, 2, MASTER_AUTH).call(
        "GET", f"/blob/{APP_KEY}/upload-loc/a"
    )
    uri = reply.json["URI"]
    assert uri.startswith(public + GATEWAY_FILES)
    # Behind the configured base sits this gateway: the path alone must work.
    reply = await _plain("PUT", gateway.url + uri[len(public) :], b"x")
    assert reply.status == 200


async def test_without_a_public_base_url_they_use_the_clients_host(
    start_gateway_on_emulator: StartGatewayOnEmulator,
) -> None:
    gateway = await start_gateway_on_emulator(6)
    reply = await KinveyClient(gateway.url, 2, MASTER_AUTH).call(
        "GET", f"/blob/{APP_KEY}/remove-loc/none", headers={"Host": "files.test:8443"}
    )
    assert reply.status == 404  # the file check runs first
    await _uploaded_file(gateway.url, "b")
    reply = await KinveyClient(gateway.url, 2, MASTER_AUTH).call(
        "GET", f"/blob/{APP_KEY}/remove-loc/b", headers={"Host": "files.test:8443"}
    )
    assert reply.json["URI"].startswith("http://files.test:8443" + GATEWAY_FILES)


class FakeStorage:
    """Storage that proves streaming: it answers only once it has seen the first chunk."""

    def __init__(self) -> None:
        self.first_chunk_seen = asyncio.Event()
        self.received = 0
        self.headers: dict[str, str] = {}
        self.raw_path = ""

    async def put(self, request: web.Request) -> web.Response:
        self.headers = dict(request.headers)
        self.raw_path = request.raw_path
        self.received += len(await request.content.readany())
        self.first_chunk_seen.set()
        async for chunk in request.content.iter_any():
            self.received += len(chunk)
        return web.Response(text="stored", headers={"ETag": '"e1"'})


async def test_an_upload_is_streamed_to_storage_with_the_required_headers(
    start_upstream: StartUpstream, start_gateway: StartGateway
) -> None:
    storage = FakeStorage()
    storage_app = web.Application()
    storage_app.router.add_put("/up/{id}", storage.put)
    storage_url = await start_upstream(storage_app)

    async def save_metadata(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "_id": request.match_info["name"],
                "_uploadURL": f"{storage_url}/up/1?sig=x%2Fy&a=b",
                "_requiredHeaders": {"x-goog-acl": "private"},
            },
            status=201,
        )

    kinvey = web.Application()
    kinvey.router.add_put("/blob/{app}/{name}", save_metadata)
    gateway = await start_gateway(await start_upstream(kinvey), pin=6)
    reply = await KinveyClient(gateway.url, 2, MASTER_AUTH).call(
        "GET", f"/blob/{APP_KEY}/upload-loc/big"
    )
    chunk = b"z" * 65536

    async def body() -> AsyncIterator[bytes]:
        yield chunk
        # A buffering gateway would never let the storage see this first chunk: fail, not hang.
        await asyncio.wait_for(storage.first_chunk_seen.wait(), 30)
        for _ in range(15):
            yield chunk

    async with (
        aiohttp.ClientSession() as session,
        session.put(
            reply.json["URI"], data=body(), headers={"Authorization": "Basic c2VjcmV0"}
        ) as response,
    ):
        assert (response.status, await response.read()) == (200, b"stored")
        assert response.headers["ETag"] == '"e1"'
    assert storage.received == 16 * len(chunk)
    assert storage.raw_path == "/up/1?sig=x%2Fy&a=b"
    assert storage.headers["x-goog-acl"] == "private"
    assert "Authorization" not in storage.headers  # the client's credentials stay with us


# A GCS-style signed URL: percent-escapes, '+', '=', '&' and '~' must all survive untouched.
SIGNED = (
    "https://storage.googleapis.com/bucket/a%20b%2Bc.png?X-Goog-Algorithm=GOOG4-RSA-SHA256"
    "&X-Goog-Credential=svc%40proj.iam.gserviceaccount.com%2F20260101%2Fauto%2Fstorage"
    "&X-Goog-Signature=0a+b/c==&~tilde=%7e"
)


async def test_v0_and_v1_get_the_signed_download_url_byte_for_byte_in_location(
    start_upstream: StartUpstream, start_gateway: StartGateway
) -> None:
    async def read_metadata(request: web.Request) -> web.Response:
        return web.json_response({"_id": request.match_info["name"], "_downloadURL": SIGNED})

    kinvey = web.Application()
    kinvey.router.add_get("/blob/{app}/{name}", read_metadata)
    gateway = await start_gateway(await start_upstream(kinvey), pin=3)
    for version in (0, 1):
        reply = await KinveyClient(gateway.url, version, MASTER_AUTH).call(
            "GET", f"/blob/{APP_KEY}/download-loc/a.png"
        )
        assert (reply.status, reply.raw) == (302, b"")
        assert reply.headers["Location"] == SIGNED
        assert "Content-Type" not in reply.headers
    reply = await KinveyClient(gateway.url, 2, MASTER_AUTH).call(
        "GET", f"/blob/{APP_KEY}/download-loc/a.png"
    )
    assert (reply.status, reply.json) == (200, {"URI": SIGNED})
