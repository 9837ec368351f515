"""Version 4 requires ``X-Kinvey-Content-Type`` on file metadata uploads."""

from __future__ import annotations

from gateway.kinvey.errors import KinveyError
from gateway.versioning import RequestInfo, VersionChange, newer, older

HEADER = "X-Kinvey-Content-Type"
OCTET_STREAM = "application/octet-stream"
METADATA_ROUTES = {"blob.collection", "blob.entity"}


class FileContentTypeHeaderRequired(VersionChange):
    """File metadata uploads must name the content type in ``X-Kinvey-Content-Type``.

    From version 4, ``POST /blob/:appKey`` and ``PUT /blob/:appKey/:id`` need the
    ``X-Kinvey-Content-Type`` header; version 3 took the type from the metadata's
    ``mimeType``. For v3 clients without the header the gateway adds it from ``mimeType``,
    else ``application/octet-stream``. For clients at 4 or above on a v3 upstream it refuses a
    metadata upload without the header with ``400 MissingRequestHeader``, as v4 does.
    """

    introduced_in = 4

    @older.request("POST", "PUT", routes=METADATA_ROUTES, reads_body=True)
    def add_the_header_from_the_metadata(request: RequestInfo) -> None:
        if not request.headers.get(HEADER):
            request.headers[HEADER] = _content_type_of(request)

    @newer.request("POST", "PUT", routes=METADATA_ROUTES)
    def require_the_header(request: RequestInfo) -> None:
        if not request.headers.get(HEADER):
            raise KinveyError(
                "MissingRequestHeader",
                debug=f"File metadata uploads need the {HEADER} header",
            )


def _content_type_of(request: RequestInfo) -> str:
    metadata = request.json
    if metadata is None:  # an empty body is empty metadata
        return OCTET_STREAM
    if not isinstance(metadata, dict):
        raise KinveyError("BadRequest", debug="File metadata must be a JSON object")
    mime_type = metadata.get("mimeType")
    if isinstance(mime_type, str) and mime_type.strip() and _header_safe(mime_type):
        return mime_type.strip()
    return OCTET_STREAM


def _header_safe(value: str) -> bool:
    # A mimeType no header can carry falls back to octet-stream rather than failing the upload.
    return all(0x20 <= ord(ch) < 0x7F for ch in value)
