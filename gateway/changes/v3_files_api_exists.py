"""Version 3 introduced the Files API (``/blob/:appKey[/:id]``)."""

from __future__ import annotations

from gateway.kinvey.errors import KinveyError
from gateway.versioning import RequestInfo, VersionChange, older


class FilesApiExists(VersionChange):
    """The Files API exists.

    Version 3 added ``POST /blob/:appKey``, ``GET|PUT|DELETE /blob/:appKey/:id`` and ``GET
    /blob/:appKey?query=...`` (file metadata with upload and download URLs). Clients at 2 or
    below only had the upload-loc, download-loc and remove-loc endpoints, so the gateway
    answers their Files API calls itself with ``400 FeatureUnavailable`` and sends nothing
    upstream (their old endpoints are emulated: see FilesApiReplacesLocEndpoints).
    """

    introduced_in = 3

    @older.request(routes={"blob.collection", "blob.entity"})
    def refuse_the_files_api(request: RequestInfo) -> None:
        raise KinveyError(
            "FeatureUnavailable",
            debug=f"The Files API is not available at API version {request.client_version}; "
            "use /blob/:appKey/upload-loc, download-loc and remove-loc",
        )
