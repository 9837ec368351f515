"""Ask a storage URL (the `_downloadURL` of a file) whether the file has content.

The old files API answered ``download-loc`` of a name whose bytes never arrived with
``404 BlobNotFound``; the Files API hands out a download URL for any saved metadata. One
ranged ``GET`` of the first byte (a GET-signed URL accepts it, a HEAD may not) tells them apart.
"""

from __future__ import annotations

from collections.abc import Callable

from multidict import CIMultiDict
from yarl import URL

from gateway.http.upstream import UpstreamClient, UpstreamError


def _uncounted(kind: str, outcome: str) -> None:
    pass


class StorageProbe:
    """``client`` is the storage client (its own trust store and timeouts, not the upstream's);
    ``count(kind, outcome)`` records each probe (``Metrics.storage_finished``)."""

    def __init__(
        self, client: UpstreamClient, count: Callable[[str, str], None] = _uncounted
    ) -> None:
        self._client = client
        self._count = count

    async def missing(self, storage_url: str) -> bool:
        """True only when the storage says the object does not exist (404)."""
        url = URL(storage_url, encoded=True)
        base = f"{url.scheme}://{url.raw_authority}"
        headers: CIMultiDict[str] = CIMultiDict({"Host": url.raw_authority, "Range": "bytes=0-0"})
        try:
            response = await self._client.send(base, "GET", url.raw_path_qs, headers, None)
        except UpstreamError as failed:
            self._count("probe", failed.outcome)
            return False  # storage unreachable: hand out the URL as the old API would
        self._count("probe", "ok")
        try:
            return response.status == 404
        finally:
            response.release()
