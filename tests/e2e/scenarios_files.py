"""File scenarios: the old ``*-loc`` API (v0-v2), the v3 Files API, and metadata content types.

Storage URLs handed out are followed the way that version's SDK would: old clients make one
plain PUT of the bytes (no extra headers); the v3 SDK adds ``_requiredHeaders`` to its one PUT;
the v4/v6 SDKs probe the upload session (``Content-Range: bytes */N`` → 308) and then PUT the
bytes as one range. Downloads are compared byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable
from typing import Any

from tests.conftest import APP_KEY
from tests.e2e.accounts import new_user
from tests.e2e.client import KinveyClient, Reply, User

BLOB = f"/blob/{APP_KEY}"
CONTENT = b"hello, old and new files \x00\xff"


async def follow(
    c: KinveyClient,
    step: str,
    method: str,
    url: Any,
    *,
    data: bytes | AsyncIterable[bytes] = b"",
    headers: Any = None,
) -> None:
    if isinstance(url, str):
        await c.storage(step, method, url, data=data, headers=dict(headers or {}))
    else:
        c.note(step, "no storage URL was handed out")


async def old_files_api(c: KinveyClient) -> None:
    user = await new_user(c, "old-files")
    auth = c.auth(user)
    name = c.unique("report.txt")
    upload = await c.call("upload-loc", "GET", f"{BLOB}/upload-loc/{name}", auth=auth)
    plain = {"Content-Type": "text/plain"}
    await follow(
        c, "plain PUT of the bytes", "PUT", upload.field("URI"), data=CONTENT, headers=plain
    )
    download = await c.call("download-loc", "GET", f"{BLOB}/download-loc/{name}", auth=auth)
    where = download.headers.get("Location") or download.field("URI")
    await follow(c, "GET of the download URL", "GET", where)
    remove = await c.call("remove-loc", "GET", f"{BLOB}/remove-loc/{name}", auth=auth)
    await follow(c, "DELETE of the removal URL", "DELETE", remove.field("URI"))
    await c.call("download-loc after removal", "GET", f"{BLOB}/download-loc/{name}", auth=auth)
    missing = c.unique("never.txt")
    await c.call(
        "download-loc of a missing file", "GET", f"{BLOB}/download-loc/{missing}", auth=auth
    )
    await c.call("remove-loc of a missing file", "GET", f"{BLOB}/remove-loc/{missing}", auth=auth)
    pending = c.unique("pending.txt")
    await c.call("upload-loc, no upload follows", "GET", f"{BLOB}/upload-loc/{pending}", auth=auth)
    await c.call(
        "download-loc before any bytes arrived",
        "GET",
        f"{BLOB}/download-loc/{pending}",
        auth=auth,
    )


async def upload_as_sdk(c: KinveyClient, created: Reply) -> None:
    url = created.field("_uploadURL")
    required = created.field("_requiredHeaders")
    headers = {**(required if isinstance(required, dict) else {}), "Content-Type": "text/plain"}
    if c.version >= 4:
        probe = {"Content-Range": f"bytes */{len(CONTENT)}"}
        await follow(c, "probe the upload session", "PUT", url, headers=probe)
        headers["Content-Range"] = f"bytes 0-{len(CONTENT) - 1}/{len(CONTENT)}"
    await follow(c, "upload the bytes", "PUT", url, data=CONTENT, headers=headers)


async def new_files_api(c: KinveyClient) -> None:
    user = await new_user(c, "new-files")
    auth = c.auth(user)
    name = c.unique("photo.txt")
    meta = {"_filename": name, "mimeType": "text/plain", "size": len(CONTENT), "caption": "c"}
    typed = {"X-Kinvey-Content-Type": "text/plain"}
    created = await c.call("create metadata", "POST", BLOB, auth=auth, body=meta, headers=typed)
    await upload_as_sdk(c, created)
    file_path = f"{BLOB}/{created.field('_id')}"
    link = {"tls": "true", "ttl_in_seconds": "60"}
    read = await c.call("read metadata", "GET", file_path, auth=auth, params=link)
    await follow(c, "download the bytes", "GET", read.field("_downloadURL"))
    query = {"query": json.dumps({"_filename": name})}
    await c.call("query files by _filename", "GET", BLOB, auth=auth, params=query)
    named = f"{BLOB}/{c.unique('named')}"
    await c.call(
        "metadata PUT with a chosen _id", "PUT", named, auth=auth, body={"a": 1}, headers=typed
    )
    await c.call("delete the file", "DELETE", file_path, auth=auth)
    await c.call("read the deleted file", "GET", file_path, auth=auth)
    await c.call("delete it again", "DELETE", file_path, auth=auth)


async def metadata_content_type(c: KinveyClient) -> None:
    user: User = await new_user(c, "mime")
    auth = c.auth(user)
    with_mime = {"_filename": c.unique("a.txt"), "mimeType": "text/plain"}
    await c.call(
        "POST metadata with mimeType, no X-Kinvey-Content-Type",
        "POST",
        BLOB,
        auth=auth,
        body=with_mime,
    )
    bare = {"_filename": c.unique("b.bin")}
    await c.call("POST metadata without any content type", "POST", BLOB, auth=auth, body=bare)
    chosen = f"{BLOB}/{c.unique('c')}"
    png = {"mimeType": "image/png"}
    await c.call(
        "PUT metadata with mimeType, no X-Kinvey-Content-Type", "PUT", chosen, auth=auth, body=png
    )
    await c.call("read it back", "GET", chosen, auth=auth)
    csv = {"X-Kinvey-Content-Type": "text/csv"}
    await c.call(
        "POST metadata with X-Kinvey-Content-Type", "POST", BLOB, auth=auth, body=bare, headers=csv
    )
