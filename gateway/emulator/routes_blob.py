"""``/blob`` new Files API (v3+): metadata with upload/download URLs on the emulated storage.

v0-v2 clients get ``400 FeatureUnavailable``. ``X-Kinvey-Content-Type`` is required on metadata
uploads from v4 (v3 falls back to ``mimeType``). Upload URLs require ``x-goog-acl: private``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.emulator import auth, versions
from gateway.emulator.listing import listing_of, run_listing
from gateway.emulator.responses import json_response
from gateway.emulator.routing import Call
from gateway.emulator.storage import (
    DOWNLOAD_URL_SECONDS,
    OCTET_STREAM,
    UPLOAD_URL_SECONDS,
    issue_url,
)
from gateway.emulator.store import Document, FileRecord, new_id, stamp_metadata
from gateway.kinvey.errors import KinveyError

REQUIRED_UPLOAD_HEADERS = {"x-goog-acl": "private"}
_SERVER_FIELDS = ("_id", "_kmd", "_uploadURL", "_downloadURL", "_expiresAt", "_requiredHeaders")


def _require_files_api(call: Call) -> None:
    if not versions.has_new_files_api(call.version):
        raise versions.feature_unavailable(
            f"The Files API is not available at API version {call.version}; "
            "use /blob/:appKey/upload-loc, download-loc and remove-loc"
        )


def _content_type(call: Call, body: dict[str, Any]) -> str:
    header = call.header("X-Kinvey-Content-Type")
    if header:
        return header
    if versions.requires_content_type_header(call.version):
        raise KinveyError(
            "MissingRequestHeader",
            debug="File metadata uploads need the X-Kinvey-Content-Type header",
        )
    mime_type = body.get("mimeType")
    return mime_type if isinstance(mime_type, str) and mime_type else OCTET_STREAM


def _creator(principal: auth.Principal, call: Call) -> str:
    return principal.user.user_id if principal.user is not None else call.config.app_key


async def _store_metadata(call: Call, file_id: str | None) -> web.StreamResponse:
    _require_files_api(call)
    principal = auth.authenticate(call, auth.DATA)
    body = await call.json_object(empty_ok=True)
    content_type = _content_type(call, body)
    if file_id is None:
        given = body.get("_id")
        file_id = given if isinstance(given, str) and given else new_id()
    previous = call.store.files.get(file_id)
    meta: Document = {key: value for key, value in body.items() if key not in _SERVER_FIELDS}
    meta.update({"_id": file_id, "mimeType": content_type})
    meta.setdefault("_filename", file_id)
    stamp_metadata(meta, _creator(principal, call), previous.meta if previous else None)
    if previous is None:
        call.store.files[file_id] = FileRecord(meta=meta, content_type=content_type)
    else:
        previous.meta = meta
    upload_url, expires_at = issue_url(
        call,
        file_id,
        "upload",
        UPLOAD_URL_SECONDS,
        required_headers=REQUIRED_UPLOAD_HEADERS,
        content_type=content_type,
    )
    answer = {
        **meta,
        "_uploadURL": upload_url,
        "_expiresAt": expires_at,
        "_requiredHeaders": dict(REQUIRED_UPLOAD_HEADERS),
    }
    return json_response(answer, status=201)


async def create_file(call: Call) -> web.StreamResponse:
    return await _store_metadata(call, None)


async def save_file(call: Call) -> web.StreamResponse:
    return await _store_metadata(call, call.params["id"])


def _ttl(call: Call) -> int:
    raw = call.arg("ttl_in_seconds")
    if raw is not None and raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    return DOWNLOAD_URL_SECONDS


def _with_download_url(call: Call, record: FileRecord) -> Document:
    # tls=true asks for an https URL; the emulator's storage is served where it is served.
    url, expires_at = issue_url(call, str(record.meta["_id"]), "download", _ttl(call))
    return {**record.meta, "_downloadURL": url, "_expiresAt": expires_at}


async def read_file(call: Call) -> web.StreamResponse:
    _require_files_api(call)
    auth.authenticate(call, auth.DATA)
    record = call.store.files.get(call.params["id"])
    if record is None:
        raise KinveyError("BlobNotFound")
    return json_response(_with_download_url(call, record))


async def find_files(call: Call) -> web.StreamResponse:
    _require_files_api(call)
    auth.authenticate(call, auth.DATA)
    metas = [record.meta for record in call.store.files.values()]
    found = run_listing(metas, listing_of(call), call.version, call.config.result_set_limit)
    return json_response(
        [_with_download_url(call, call.store.files[str(meta["_id"])]) for meta in found]
    )


async def delete_file(call: Call) -> web.StreamResponse:
    _require_files_api(call)
    auth.authenticate(call, auth.DATA)
    if not call.store.remove_file(call.params["id"]):
        raise KinveyError("BlobNotFound")
    return json_response({"count": 1})
