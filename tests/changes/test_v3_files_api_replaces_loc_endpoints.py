"""v3 FilesApiReplacesLocEndpoints: the old *-loc endpoints emulated on the Files API.

Unit cases run the plan with a fake Files API; the end-to-end cases in
test_v3_gateway_file_urls.py drive the whole old-client flow through a real gateway.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.http.storage_probe import StorageProbe
from gateway.kinvey.file_tickets import RemovalTicket, StorageCheck, UploadTicket, redeem, token_of
from gateway.kinvey.signing import UrlSigner
from gateway.settings_apps import AppPolicy, Secret
from gateway.versioning import RequestInfo, ResponseInfo
from gateway.versioning.context import Services
from tests.changes.support import FakeUpstream, answering, make_request, run
from tests.support.kinvey_client import basic

STORAGE_UPLOAD = "https://storage.example/upload/f?sig=a%2Fb&x=1"
STORAGE_DOWNLOAD = "https://storage.example/download/f?sig=c%2Bd~"
AUTH = basic("alice", "s3cret")


class FakeStorage:
    """Stands in for the storage host behind a StorageProbe: knows which URLs are empty."""

    def __init__(self) -> None:
        self.empty: set[str] = set()
        self.probed: list[str] = []

    async def send(self, base: str, method: str, raw_path: str, headers: Any, body: Any) -> Any:
        url = base + raw_path
        self.probed.append(f"{method} {url} {headers['Range']}")
        status = 404 if url in self.empty else 206

        class Answer:
            def __init__(self) -> None:
                self.status = status

            def release(self) -> None:
                pass

        return Answer()


STORAGE = FakeStorage()


def _services() -> tuple[Services, UrlSigner]:
    services = Services()
    signer = UrlSigner(b"unit-secret", 600)
    services.register(signer)
    services.register(StorageCheck(StorageProbe(STORAGE).missing))  # type: ignore[arg-type]
    return services, signer


def _loc(kind: str, client: int, name: str = "photo.png", **headers: str) -> RequestInfo:
    services, _ = _services()
    return make_request(
        "GET",
        f"/blob/kid/{kind}-loc/{name}",
        client,
        5,  # below 6: the v6 Basic-to-session exchange is not under test here
        headers={"Authorization": AUTH, **headers},
        services=services,
        public_base_url="https://gw.example",
    )


def _metadata(request: RequestInfo, **extra: Any) -> ResponseInfo:
    body = {"_id": "photo.png", "_filename": "photo.png", **extra}
    response = ResponseInfo.from_json(201 if request.method == "PUT" else 200, body)
    response.headers["X-Kinvey-Request-Id"] = "upstream-rid"
    return response


def _signer_of(request: RequestInfo) -> UrlSigner:
    return request.context.service(UrlSigner)


@pytest.mark.parametrize("client", [0, 1, 2])
async def test_upload_loc_saves_metadata_and_answers_the_upload_url(client: int) -> None:
    upstream = FakeUpstream(lambda r: _metadata(r, _uploadURL=STORAGE_UPLOAD))
    request = _loc("upload", client, **{"Content-Type": "image/png"})
    response = await run(request, upstream)
    assert (response.status, response.json) == (200, {"URI": STORAGE_UPLOAD})
    assert response.headers["X-Kinvey-Request-Id"] == "upstream-rid"
    [sent] = upstream.seen
    assert (sent.method, sent.raw_path) == ("PUT", "/blob/kid/photo.png")
    assert json.loads(sent.body or b"") == {"_filename": "photo.png"}
    assert sent.headers["X-Kinvey-Content-Type"] == "image/png"
    assert sent.headers["Authorization"] == AUTH


async def test_upload_loc_without_content_type_is_an_octet_stream() -> None:
    upstream = FakeUpstream(lambda r: _metadata(r, _uploadURL=STORAGE_UPLOAD))
    await run(_loc("upload", 2), upstream)
    assert upstream.seen[0].headers["X-Kinvey-Content-Type"] == "application/octet-stream"


async def test_the_old_name_is_the_file_id_exactly_as_spelled() -> None:
    upstream = FakeUpstream(lambda r: _metadata(r, _uploadURL=STORAGE_UPLOAD))
    await run(_loc("upload", 2, name="my%20photo%2B1.png/"), upstream)
    assert upstream.seen[0].raw_path == "/blob/kid/my%20photo%2B1.png"
    assert json.loads(upstream.seen[0].body or b"") == {"_filename": "my photo+1.png"}


async def test_an_upload_url_with_required_headers_is_wrapped_in_a_sealed_gateway_url() -> None:
    required = {"x-goog-acl": "private"}
    upstream = FakeUpstream(
        lambda r: _metadata(r, _uploadURL=STORAGE_UPLOAD, _requiredHeaders=required)
    )
    request = _loc("upload", 1)
    response = await run(request, upstream)
    uri = response.json["URI"]
    assert uri.startswith("https://gw.example/_gateway/files/")
    assert "storage.example" not in uri and "sig=" not in uri
    ticket = redeem(_signer_of(request), token_of(uri[len("https://gw.example") :]), "PUT")
    assert ticket == UploadTicket("kid", "photo.png", STORAGE_UPLOAD, required, 1)


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"_uploadURL": ""},
        {"_uploadURL": "/relative"},
        {"_uploadURL": STORAGE_UPLOAD, "_requiredHeaders": ["x"]},
        {"_uploadURL": STORAGE_UPLOAD, "_requiredHeaders": {"x": 1}},
        {"_uploadURL": STORAGE_UPLOAD, "_requiredHeaders": {"x": "a\r\nb"}},
    ],
)
async def test_unusable_upload_metadata_is_a_502(extra: dict[str, Any]) -> None:
    response = await run(_loc("upload", 2), FakeUpstream(lambda r: _metadata(r, **extra)))
    assert (response.status, response.json["error"]) == (502, "KinveyInternalErrorRetry")


async def test_upstream_metadata_that_is_not_json_is_a_502() -> None:
    response = await run(_loc("download", 2), answering(200, b"<xml/>"))
    assert (response.status, response.json["error"]) == (502, "KinveyInternalErrorRetry")


async def test_download_loc_answers_the_download_url_for_v2() -> None:
    upstream = FakeUpstream(lambda r: _metadata(r, _downloadURL=STORAGE_DOWNLOAD))
    request = _loc("download", 2)
    request.raw_path += "?tls=true&ttl_in_seconds=60"
    response = await run(request, upstream)
    assert (response.status, response.json) == (200, {"URI": STORAGE_DOWNLOAD})
    assert upstream.seen[0].method == "GET"
    assert upstream.seen[0].raw_path == "/blob/kid/photo.png?tls=true&ttl_in_seconds=60"


@pytest.mark.parametrize("client", [0, 1, 2])
async def test_download_loc_of_metadata_without_content_is_blob_not_found(client: int) -> None:
    # upload-loc saved metadata, but the client never PUT the bytes: the old API knew no file.
    empty = "https://storage.example/download/empty?sig=1"
    STORAGE.empty.add(empty)
    upstream = FakeUpstream(lambda r: _metadata(r, _downloadURL=empty))
    response = await run(_loc("download", client), upstream)
    assert response.status == 404
    body = response.json
    assert body.get("error") in {"BlobNotFound", "This blob not found for this app backend"}
    assert STORAGE.probed[-1] == f"GET {empty} bytes=0-0"


@pytest.mark.parametrize("client", [0, 1])
async def test_download_loc_is_a_redirect_for_v0_and_v1(client: int) -> None:
    # The v2 change sits outside this one: it turns the emulated {"URI"} into a 302.
    upstream = FakeUpstream(lambda r: _metadata(r, _downloadURL=STORAGE_DOWNLOAD))
    response = await run(_loc("download", client), upstream)
    assert response.status == 302
    assert response.headers["Location"] == STORAGE_DOWNLOAD
    assert response.body == b""


@pytest.mark.parametrize(("client", "status"), [(1, 302), (2, 200)])
async def test_a_head_of_download_loc_is_emulated_like_its_get(client: int, status: int) -> None:
    """The old server answered a HEAD as its GET without the body: an upstream at 3+ knows no
    download-loc at all, so a HEAD passed on would get 400 FeatureUnavailable."""
    upstream = FakeUpstream(lambda r: _metadata(r, _downloadURL=STORAGE_DOWNLOAD))
    request = _loc("download", client)
    request.method = "HEAD"
    response = await run(request, upstream)
    assert response.status == status
    assert [(r.method, r.raw_path) for r in upstream.seen] == [("GET", "/blob/kid/photo.png")]
    if status == 302:
        assert response.headers["Location"] == STORAGE_DOWNLOAD


async def test_remove_loc_checks_the_file_and_deletes_nothing() -> None:
    upstream = FakeUpstream(lambda r: _metadata(r, _downloadURL=STORAGE_DOWNLOAD))
    request = _loc("remove", 0)
    request.context.app = AppPolicy("kid", app_secret=Secret("the app's secret"))
    request.raw_path += "?_=42"
    response = await run(request, upstream)
    assert [(r.method, r.raw_path) for r in upstream.seen] == [("GET", "/blob/kid/photo.png")]
    uri = response.json["URI"]
    assert uri.startswith("https://gw.example/_gateway/files/")
    assert AUTH.split()[1] not in uri
    ticket = redeem(_signer_of(request), token_of(uri[len("https://gw.example") :]), "DELETE")
    assert ticket == RemovalTicket("kid", "photo.png", "/blob/kid/photo.png", 0)


async def test_remove_loc_needs_the_app_secret_that_will_delete_the_file() -> None:
    upstream = FakeUpstream(lambda r: _metadata(r, _downloadURL=STORAGE_DOWNLOAD))
    response = await run(_loc("remove", 1), upstream)  # no app configured: no secret
    assert response.status == 500 and response.json["error"] == "KinveyInternalErrorStop"
    assert "no app secret" in response.json["debug"]


@pytest.mark.parametrize("kind", ["upload", "download", "remove"])
async def test_upstream_errors_reach_the_client_in_its_shape(kind: str) -> None:
    error = {"error": "BlobNotFound", "description": "No such file", "debug": ""}
    response = await run(_loc(kind, 2), answering(404, error))
    assert (response.status, response.json) == (404, error)
    response = await run(_loc(kind, 0), answering(404, error))
    assert (response.status, response.json) == (404, {"error": "No such file"})


async def test_v3_clients_are_not_emulated() -> None:
    upstream = answering(400, {"error": "FeatureUnavailable", "description": "x", "debug": ""})
    request = make_request("GET", "/blob/kid/upload-loc/a", 3, 6)
    await run(request, upstream)
    assert upstream.seen[0].raw_path == "/blob/kid/upload-loc/a"
