"""Ask a storage URL (the `_downloadURL` of a file) whether the file has content.

The old files API answered ``download-loc`` of a name whose bytes never arrived with
``404 BlobNotFound``; the Files API hands out a download URL for any saved metadata. One
ranged ``GET`` of the first byte (a GET-signed URL accepts it, a HEAD may not) tells them apart.
"""

from __future__ import annotations

from multidict import CIMultiDict
from yarl import URL

from gateway.http.upstream import UpstreamClient, UpstreamError


class StorageProbe:
    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    async def missing(self, storage_url: str) -> bool:
        """True only when the storage says the object does not exist (404)."""
        url = URL(storage_url, encoded=True)
        base = f"{url.scheme}://{url.raw_authority}"
        headers: CIMultiDict[str] = CIMultiDict({"Host": url.raw_authority, "Range": "bytes=0-0"})
        try:
            response = await self._client.send(base, "GET", url.raw_path_qs, headers, None)
        except UpstreamError:
            return False  # storage unreachable: hand out the URL as the old API would
        try:
            return response.status == 404
        finally:
            response.release()
