"""Files: the old *-loc API (v0-v2), the new Files API (v3+), and the emulated storage."""

from typing import Any

import pytest

from tests.emulator.emulator_helpers import Api, MakeApi

REQUIRED = {"x-goog-acl": "private"}


async def _old_upload(api: Api, version: int, name: str, data: bytes) -> None:
    loc = await api.call(
        "GET", f"/blob/{api.key}/upload-loc/{name}", version=version, auth=api.master_auth
    )
    assert loc.status == 200 and set(loc.json) == {"URI"}
    put = await api.storage(
        "PUT", loc.json["URI"], data=data, headers={"Content-Type": "text/plain"}
    )
    assert put.status in (200, 201)


@pytest.mark.parametrize("version", [0, 1])
async def test_download_loc_redirects_at_v0_and_v1(api: Api, version: int) -> None:
    await _old_upload(api, version, "a.txt", b"hello")
    reply = await api.call(
        "GET", f"/blob/{api.key}/download-loc/a.txt", version=version, auth=api.master_auth
    )
    assert reply.status == 302 and reply.raw == b"" and "Content-Type" not in reply.headers
    got = await api.storage("GET", reply.headers["Location"])
    assert got.status == 200 and got.raw == b"hello"
    assert got.headers["Content-Type"].startswith("text/plain")


async def test_download_loc_answers_json_at_v2(api: Api) -> None:
    await _old_upload(api, 2, "b.bin", b"\x00\x01")
    reply = await api.call(
        "GET", f"/blob/{api.key}/download-loc/b.bin", version=2, auth=api.master_auth
    )
    assert reply.status == 200 and set(reply.json) == {"URI"}
    assert (await api.storage("GET", reply.json["URI"])).raw == b"\x00\x01"


async def test_remove_loc_deletes_on_delete_only(api: Api) -> None:
    await _old_upload(api, 2, "c", b"x")
    remove = await api.call("GET", f"/blob/{api.key}/remove-loc/c", version=2, auth=api.master_auth)
    assert remove.status == 200
    still = await api.call(
        "GET", f"/blob/{api.key}/download-loc/c", version=2, auth=api.master_auth
    )
    assert still.status == 200  # nothing deleted before the DELETE
    assert (await api.storage("GET", remove.json["URI"])).status == 403  # wrong method
    deleted = await api.storage("DELETE", remove.json["URI"])
    assert deleted.status == 204
    gone = await api.call("GET", f"/blob/{api.key}/download-loc/c", version=2, auth=api.master_auth)
    assert gone.status == 404 and gone.error == "BlobNotFound"


async def test_old_api_missing_file_is_blob_not_found(api: Api) -> None:
    for kind in ("download-loc", "remove-loc"):
        reply = await api.call(
            "GET", f"/blob/{api.key}/{kind}/none", version=1, auth=api.master_auth
        )
        assert reply.status == 404 and reply.error == "BlobNotFound"
    v0 = await api.call(
        "GET", f"/blob/{api.key}/download-loc/none", version=0, auth=api.master_auth
    )
    assert v0.status == 404 and list(v0.json) == ["error"]


@pytest.mark.parametrize("kind", ["upload-loc", "download-loc", "remove-loc"])
async def test_old_api_is_unavailable_from_v3(api: Api, kind: str) -> None:
    reply = await api.call("GET", f"/blob/{api.key}/{kind}/x", version=3, auth=api.master_auth)
    assert reply.status == 400 and reply.error == "FeatureUnavailable"


async def _metadata(api: Api, version: int, **extra: Any) -> Any:
    headers = {"X-Kinvey-Content-Type": "image/png"} if version >= 4 else {}
    body = {"_filename": "pic.png", "mimeType": "image/png", "size": 6, "_public": True, **extra}
    return await api.call(
        "POST",
        f"/blob/{api.key}",
        version=version,
        auth=api.master_auth,
        body=body,
        headers=headers,
    )


async def test_new_api_upload_needs_required_headers(api: Api) -> None:
    created = await _metadata(api, 4, album="summer")
    assert created.status == 201
    meta = created.json
    assert meta["_requiredHeaders"] == REQUIRED and meta["album"] == "summer"
    assert meta["_filename"] == "pic.png" and meta["mimeType"] == "image/png"
    assert meta["_expiresAt"].endswith("Z") and meta["_public"] is True
    without = await api.storage("PUT", meta["_uploadURL"], data=b"abcdef")
    assert without.status == 403
    wrong = await api.storage(
        "PUT", meta["_uploadURL"], data=b"abcdef", headers={"x-goog-acl": "public"}
    )
    assert wrong.status == 403
    put = await api.storage("PUT", meta["_uploadURL"], data=b"abcdef", headers=REQUIRED)
    assert put.status in (200, 201)
    read = await api.call("GET", f"/blob/{api.key}/{meta['_id']}", version=4, auth=api.master_auth)
    assert read.status == 200 and read.json["size"] == 6
    got = await api.storage("GET", read.json["_downloadURL"])
    assert got.raw == b"abcdef" and got.headers["Content-Type"] == "image/png"


async def test_content_type_header_required_from_v4(api: Api) -> None:
    body = {"_filename": "f.txt", "mimeType": "text/plain"}
    v4 = await api.call("POST", f"/blob/{api.key}", version=4, auth=api.master_auth, body=body)
    assert v4.status == 400 and v4.error == "MissingRequestHeader"
    v3 = await api.call("POST", f"/blob/{api.key}", version=3, auth=api.master_auth, body=body)
    assert v3.status == 201 and v3.json["mimeType"] == "text/plain"
    bare = await api.call("POST", f"/blob/{api.key}", version=3, auth=api.master_auth, body={})
    assert bare.json["mimeType"] == "application/octet-stream"
    header = await api.call(
        "PUT",
        f"/blob/{api.key}/given-id",
        version=3,
        auth=api.master_auth,
        body=body,
        headers={"X-Kinvey-Content-Type": "text/csv"},
    )
    assert header.status == 201 and header.json["_id"] == "given-id"
    assert header.json["mimeType"] == "text/csv"


@pytest.mark.parametrize("version", [0, 2])
async def test_new_api_is_unavailable_below_v3(api: Api, version: int) -> None:
    for method, path in [("POST", ""), ("GET", ""), ("GET", "/x"), ("PUT", "/x"), ("DELETE", "/x")]:
        reply = await api.call(
            method, f"/blob/{api.key}{path}", version=version, auth=api.master_auth, body={}
        )
        assert reply.status == 400, (method, path)
        if version:
            assert reply.error == "FeatureUnavailable"


async def test_missing_file_and_delete_count(api: Api) -> None:
    created = await _metadata(api, 6)
    path = f"/blob/{api.key}/{created.json['_id']}"
    deleted = await api.call("DELETE", path, version=6, auth=api.master_auth)
    assert deleted.status == 200 and deleted.json == {"count": 1}
    for method in ("GET", "DELETE"):
        reply = await api.call(method, path, version=6, auth=api.master_auth)
        assert reply.status == 404 and reply.error == "BlobNotFound"
    stale = await api.storage("PUT", created.json["_uploadURL"], data=b"x", headers=REQUIRED)
    assert stale.status == 403  # the upload URL died with the file


async def test_file_query_lists_metadata_with_download_urls(api: Api) -> None:
    await _metadata(api, 4, album="a")
    await _metadata(api, 4, album="b")
    reply = await api.call(
        "GET",
        f"/blob/{api.key}",
        version=4,
        auth=api.master_auth,
        params={"query": '{"album": "b"}'},
    )
    assert reply.status == 200 and [m["album"] for m in reply.json] == ["b"]
    assert reply.json[0]["_downloadURL"].startswith("http://")


async def test_resumable_upload_protocol(api: Api) -> None:
    meta = (await _metadata(api, 6)).json
    url = meta["_uploadURL"]
    probe = await api.storage("PUT", url, headers={"Content-Range": "bytes */6", **REQUIRED})
    assert probe.status == 308 and "Range" not in probe.headers
    first = await api.storage(
        "PUT", url, data=b"abc", headers={"Content-Range": "bytes 0-2/6", **REQUIRED}
    )
    assert first.status == 308 and first.headers["Range"] == "bytes=0-2"
    probe = await api.storage("PUT", url, headers={"Content-Range": "bytes */6", **REQUIRED})
    assert probe.status == 308 and probe.headers["Range"] == "bytes=0-2"
    gap = await api.storage(
        "PUT", url, data=b"f", headers={"Content-Range": "bytes 5-5/6", **REQUIRED}
    )
    assert gap.status == 400
    last = await api.storage(
        "PUT", url, data=b"def", headers={"Content-Range": "bytes 3-5/6", **REQUIRED}
    )
    assert last.status in (200, 201)
    done = await api.storage("PUT", url, headers={"Content-Range": "bytes */6", **REQUIRED})
    assert done.status in (200, 201)
    read = await api.call("GET", f"/blob/{api.key}/{meta['_id']}", version=6, auth=api.master_auth)
    assert (await api.storage("GET", read.json["_downloadURL"])).raw == b"abcdef"


async def test_ranged_puts_need_required_headers_too(api: Api) -> None:
    meta = (await _metadata(api, 6)).json
    reply = await api.storage(
        "PUT", meta["_uploadURL"], data=b"abc", headers={"Content-Range": "bytes 0-2/6"}
    )
    assert reply.status == 403


async def test_old_api_upload_url_speaks_the_resumable_protocol_too(api: Api) -> None:
    loc = await api.call("GET", f"/blob/{api.key}/upload-loc/r", version=1, auth=api.master_auth)
    url = loc.json["URI"]
    assert (await api.storage("PUT", url, headers={"Content-Range": "bytes */2"})).status == 308
    done = await api.storage("PUT", url, data=b"ok", headers={"Content-Range": "bytes 0-1/2"})
    assert done.status in (200, 201)


async def test_forged_or_unknown_storage_urls_are_refused(api: Api) -> None:
    meta = (await _metadata(api, 6)).json
    forged = meta["_uploadURL"][:-4] + "AAAA"
    assert (await api.storage("PUT", forged, data=b"x", headers=REQUIRED)).status == 403
    base = meta["_uploadURL"].split("/_storage/")[0]
    assert (await api.storage("GET", base + "/_storage/")).status == 403


async def test_storage_urls_use_the_public_base_url(make_api: MakeApi) -> None:
    api = await make_api(public_base_url="https://files.example.test/")
    meta = (await _metadata(api, 6)).json
    assert meta["_uploadURL"].startswith("https://files.example.test/_storage/")


async def test_download_ttl_sets_the_expiry(api: Api) -> None:
    meta = (await _metadata(api, 6)).json
    short = await api.call(
        "GET",
        f"/blob/{api.key}/{meta['_id']}",
        version=6,
        auth=api.master_auth,
        params={"tls": "true", "ttl_in_seconds": "60"},
    )
    long = await api.call("GET", f"/blob/{api.key}/{meta['_id']}", version=6, auth=api.master_auth)
    assert short.json["_expiresAt"] < long.json["_expiresAt"]
