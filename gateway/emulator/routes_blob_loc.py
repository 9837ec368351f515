"""The old file API (v0-v2): ``/blob/:appKey/{upload,download,remove}-loc/:name``.

Each answers ``{"URI": <storage URL>}`` (the file's ``_id`` is its name); download-loc answers
v0/v1 with ``302 Location`` instead. v3+ clients get ``400 FeatureUnavailable``. A plain PUT of
the bytes to the upload URL works: no required headers.
"""

from __future__ import annotations

from aiohttp import web

from gateway.emulator import auth, versions
from gateway.emulator.responses import empty_response, json_response
from gateway.emulator.routing import Call
from gateway.emulator.storage import DOWNLOAD_URL_SECONDS, UPLOAD_URL_SECONDS, issue_url
from gateway.emulator.store import FileRecord, stamp_metadata
from gateway.kinvey.errors import KinveyError


def _require_old_api(call: Call) -> auth.Principal:
    if versions.has_new_files_api(call.version):
        # Worded for the client, not for this request's version: through a gateway a v3
        # client's call arrives here at the upstream pin, which the client never chose.
        raise versions.feature_unavailable(
            "The upload-loc/download-loc/remove-loc endpoints do not exist from API version "
            f"{versions.NEW_FILES_API_SINCE} on; use the Files API (POST /blob/:appKey)"
        )
    return auth.authenticate(call, auth.DATA)


def _existing(call: Call) -> FileRecord:
    record = call.store.files.get(call.params["name"])
    if record is None or record.content is None:
        raise KinveyError("BlobNotFound")
    return record


async def upload_loc(call: Call) -> web.StreamResponse:
    principal = _require_old_api(call)
    name = call.params["name"]
    if name not in call.store.files:
        creator = principal.user.user_id if principal.user is not None else call.config.app_key
        meta = stamp_metadata({"_id": name, "_filename": name}, creator, None)
        call.store.files[name] = FileRecord(meta=meta)
    url, _ = issue_url(call, name, "upload", UPLOAD_URL_SECONDS)
    return json_response({"URI": url})


async def download_loc(call: Call) -> web.StreamResponse:
    _require_old_api(call)
    _existing(call)
    url, _ = issue_url(call, call.params["name"], "download", DOWNLOAD_URL_SECONDS)
    if versions.download_loc_redirects(call.version):
        return empty_response(302, headers={"Location": url})
    return json_response({"URI": url})


async def remove_loc(call: Call) -> web.StreamResponse:
    _require_old_api(call)
    if call.params["name"] not in call.store.files:
        raise KinveyError("BlobNotFound")
    url, _ = issue_url(call, call.params["name"], "delete", UPLOAD_URL_SECONDS)
    return json_response({"URI": url})
