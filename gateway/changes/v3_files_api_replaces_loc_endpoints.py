"""Version 3 replaced upload-loc, download-loc and remove-loc with the Files API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.kinvey import routes
from gateway.kinvey.errors import KinveyError
from gateway.kinvey.file_tickets import (
    RemovalTicket,
    StorageCheck,
    TicketTooLarge,
    UploadTicket,
    removal_url,
    upload_url,
)
from gateway.kinvey.signing import UrlSigner
from gateway.versioning import Next, RequestInfo, ResponseInfo, VersionChange, older

OCTET_STREAM = "application/octet-stream"


class FilesApiReplacesLocEndpoints(VersionChange):
    """The Files API replaces the upload-loc, download-loc and remove-loc endpoints.

    Up to version 2, ``GET /blob/:appKey/{upload,download,remove}-loc/:name`` answered
    ``{"URI": ...}`` and the client then PUT, GET or DELETEd that URL. Version 3 removed them
    for file metadata (``PUT /blob/:appKey/:id`` → ``_uploadURL``, ``GET`` → ``_downloadURL``,
    ``DELETE``). For clients at 2 or below the gateway emulates the old endpoints on the Files
    API, with the old name as the file's ``_id``: upload-loc saves metadata
    (``_filename``, ``X-Kinvey-Content-Type`` from the request's Content-Type) and answers the
    upload URL; download-loc answers the download URL (a 302 for v0/v1, see
    OldFileDownloadReturnsJson), or ``404 BlobNotFound`` when storage has no content for it
    (one ranged GET of the first byte asks); remove-loc checks the file exists and answers a
    signed, expiring gateway URL whose DELETE removes it (nothing is deleted before) with the
    app's credentials from the gateway's config, since the URL carries none of the client's. An
    upload URL that needs ``_requiredHeaders`` is wrapped in a signed gateway URL that adds
    them while streaming the client's PUT on. A ``HEAD`` of an old endpoint is emulated like
    its ``GET`` (the old server answered it so), without the body. Newer clients on an older
    upstream: not needed (pins start at 3).
    """

    introduced_in = 3

    @older.around("GET", "HEAD", routes={"blob.upload_loc"})
    async def upload_loc_on_the_files_api(request: RequestInfo, call_next: Next) -> ResponseInfo:
        metadata = request.derive(
            "PUT",
            _files_api_path(request, keep_query=True),
            _files_api_route(request),
            body={"_filename": _name(request)},
        )
        metadata.headers["X-Kinvey-Content-Type"] = (
            request.headers.get("Content-Type") or OCTET_STREAM
        )
        response = await call_next(metadata)
        if not _succeeded(response):
            return response
        saved = await _metadata(response)
        storage_url = _url_field(saved, "_uploadURL")
        required = _required_headers(saved)
        if not required:
            return _uri_answer(response, storage_url)
        ticket = UploadTicket(
            _app_key(request), _name(request), storage_url, required, request.client_version
        )
        return _uri_answer(response, _sealed(request, lambda s, base: upload_url(s, base, ticket)))

    @older.around("GET", "HEAD", routes={"blob.download_loc"})
    async def download_loc_on_the_files_api(request: RequestInfo, call_next: Next) -> ResponseInfo:
        path = _files_api_path(request, keep_query=True)
        response = await call_next(request.derive("GET", path, _files_api_route(request)))
        if not _succeeded(response):
            return response
        download_url = _url_field(await _metadata(response), "_downloadURL")
        if await request.context.service(StorageCheck).missing(download_url):
            # Saved metadata whose bytes never arrived: the old API knew no such file.
            raise KinveyError("BlobNotFound", debug="the file has no uploaded content")
        return _uri_answer(response, download_url)

    @older.around("GET", "HEAD", routes={"blob.remove_loc"})
    async def remove_loc_on_the_files_api(request: RequestInfo, call_next: Next) -> ResponseInfo:
        path = _files_api_path(request, keep_query=False)
        # The old endpoint answered BlobNotFound (and refused bad credentials) right away.
        response = await call_next(request.derive("GET", path, _files_api_route(request)))
        if not _succeeded(response):
            return response
        _require_app_secret(request)
        ticket = RemovalTicket(_app_key(request), _name(request), path, request.client_version)
        return _uri_answer(response, _sealed(request, lambda s, base: removal_url(s, base, ticket)))


def _require_app_secret(request: RequestInfo) -> None:
    app = request.context.app
    if app is None or not app.app_secret:
        raise KinveyError(
            "KinveyInternalErrorStop",
            debug="the gateway has no app secret for this app, so it cannot remove files for "
            "this app version (configure KINVEY_GATEWAY_APP_SECRET_<appKey>)",
        )


def _files_api_path(request: RequestInfo, *, keep_query: bool) -> str:
    """``/blob/<appKey>/<name>`` with both segments exactly as the client spelled them."""
    path = request.path
    if path.endswith("/"):
        path = path[:-1]
    segments = path.split("/")  # "", "blob", appKey, "<kind>-loc", name
    files_path = f"/blob/{segments[2]}/{segments[4]}"
    query = request.query_string
    return f"{files_path}?{query}" if keep_query and query else files_path


def _files_api_route(request: RequestInfo) -> routes.RouteMatch:
    return routes.match(_files_api_path(request, keep_query=False))


def _app_key(request: RequestInfo) -> str:
    return request.route.app_key or ""


def _name(request: RequestInfo) -> str:
    return request.route.entity_id or ""


def _succeeded(response: ResponseInfo) -> bool:
    return 200 <= response.status < 300


def _bad_upstream(debug: str) -> KinveyError:
    return KinveyError("KinveyInternalErrorRetry", status=502, debug=debug)


async def _metadata(response: ResponseInfo) -> dict[str, Any]:
    await response.load()
    try:
        metadata = response.json
    except ValueError:
        raise _bad_upstream("the upstream's file metadata is not JSON") from None
    if not isinstance(metadata, dict):
        raise _bad_upstream("the upstream's file metadata is not a JSON object")
    return metadata


def _url_field(metadata: dict[str, Any], field: str) -> str:
    value = metadata.get(field)
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise _bad_upstream(f"the upstream's file metadata has no usable {field}")
    return value


def _header_safe(text: str) -> bool:
    return bool(text) and all(0x20 <= ord(ch) < 0x7F for ch in text)


def _required_headers(metadata: dict[str, Any]) -> dict[str, str]:
    required = metadata.get("_requiredHeaders") or {}
    if not isinstance(required, dict) or not all(
        isinstance(name, str)
        and isinstance(value, str)
        and _header_safe(name)
        and (value == "" or _header_safe(value))
        for name, value in required.items()
    ):
        raise _bad_upstream("the upstream's _requiredHeaders are not headers the gateway can send")
    return required


def _sealed(request: RequestInfo, make: Callable[[UrlSigner, str], str]) -> str:
    try:
        return make(request.context.service(UrlSigner), request.context.public_base_url)
    except TicketTooLarge as exc:
        raise _bad_upstream(str(exc)) from None


def _uri_answer(upstream_response: ResponseInfo, uri: str) -> ResponseInfo:
    answer = ResponseInfo.from_json(200, {"URI": uri})
    request_id = upstream_response.headers.get("X-Kinvey-Request-Id")
    if request_id:
        answer.headers["X-Kinvey-Request-Id"] = request_id
    return answer
