"""Push registration, custom endpoints (the caller and the client's headers must reach them),
the files surface (``_public``, ``_acl``, ``ttl_in_seconds``, unicode names, both file APIs),
and an error on every route family, in the client's version's shape (spec §2)."""

from __future__ import annotations

from urllib.parse import quote

from tests.conftest import APP_KEY
from tests.e2e.accounts import USERS, new_user
from tests.e2e.client import APP_AUTH, MASTER_AUTH, KinveyClient, basic, chunked
from tests.e2e.scenarios_files import BLOB, CONTENT, follow, upload_as_sdk
from tests.e2e.scenarios_queries import q

PUSH = f"/push/{APP_KEY}"
LARGE_FILE = bytes(range(256)) * 1024  # 256 kB, every byte value
CLIENT_HEADERS = {
    "X-Kinvey-Custom-Request-Properties": '{"screen":"checkout","lang":"de-CH"}',
    "X-Kinvey-Client-App-Version": "2.3.1",
    "X-Kinvey-Device-Information": "Android 4.4 / Nexus 5",
}


async def push_and_endpoints(c: KinveyClient) -> None:
    user = await new_user(c, "pusher")
    auth = c.auth(user)
    device = {"platform": "android", "deviceId": c.unique("gcm-token")}
    await c.call("register a device", "POST", f"{PUSH}/register-device", auth=auth, body=device)
    await c.call("register it again", "POST", f"{PUSH}/register-device", auth=auth, body=device)
    await c.call("unregister it", "POST", f"{PUSH}/unregister-device", auth=auth, body=device)
    bad = {"platform": "blackberry", "deviceId": "x"}
    await c.call(
        "register an unknown platform", "POST", f"{PUSH}/register-device", auth=auth, body=bad
    )
    await c.call("register without a body", "POST", f"{PUSH}/register-device", auth=auth)
    await c.call(
        "register with the app secret",
        "POST",
        f"{PUSH}/register-device",
        auth=APP_AUTH,
        body=device,
    )
    await c.call("register without credentials", "POST", f"{PUSH}/register-device", body=device)
    rpc = f"/rpc/{APP_KEY}/custom/whoami"
    await c.call(
        "custom endpoint sees the user and the client's headers",
        "POST",
        rpc,
        auth=auth,
        body={"q": "ü"},
        headers=CLIENT_HEADERS,
    )
    as_basic = basic(user.username, user.password)
    await c.call("custom endpoint with Basic user credentials", "POST", rpc, auth=as_basic, body={})
    await c.call(
        "custom endpoint with the app secret", "POST", rpc, auth=APP_AUTH, headers=CLIENT_HEADERS
    )


async def files_surface(c: KinveyClient) -> None:
    user = await new_user(c, "file-surface")
    auth = c.auth(user)
    name = c.unique("résumé 東京.txt")
    typed = {"X-Kinvey-Content-Type": "text/plain"}
    meta = {
        "_filename": name,
        "_public": True,
        "_acl": {"gr": False, "r": [user.user_id]},
        "mimeType": "text/plain",
        "size": len(CONTENT),
    }
    created = await c.call(
        "create public metadata", "POST", BLOB, auth=auth, body=meta, headers=typed
    )
    await upload_as_sdk(c, created)
    file_path = f"{BLOB}/{created.field('_id') or 'none'}"
    link = {"ttl_in_seconds": "120", "tls": "true"}
    read = await c.call("read with ttl_in_seconds", "GET", file_path, auth=auth, params=link)
    await follow(c, "download it", "GET", read.field("_downloadURL"))
    chosen = f"{BLOB}/{quote(c.unique('häuschen+1'), safe='')}"
    await c.call(
        "PUT metadata under a unicode _id",
        "PUT",
        chosen,
        auth=auth,
        body={"_public": False},
        headers=typed,
    )
    await c.call("read the unicode _id", "GET", chosen, auth=auth)
    await c.call("HEAD of the unicode _id", "HEAD", chosen, auth=auth)
    public = {"query": q({"_public": True, "_filename": name})}
    await c.call("query public files", "GET", BLOB, auth=auth, params=public)
    await c.call("delete the unicode _id", "DELETE", chosen, auth=auth)
    old_name = quote(c.unique("çà et là.txt"), safe="")
    upload = await c.call(
        "upload-loc of a unicode name", "GET", f"{BLOB}/upload-loc/{old_name}", auth=auth
    )
    # Chunked, and large: the gateway's own upload URL (v0-v2 on a 3+ upstream) streams it on.
    await follow(
        c,
        "PUT the bytes, chunked",
        "PUT",
        upload.field("URI"),
        data=chunked(LARGE_FILE, 65536),
        headers={"Content-Type": "text/plain"},
    )
    found = await c.call(
        "download-loc of the unicode name", "GET", f"{BLOB}/download-loc/{old_name}", auth=auth
    )
    await follow(c, "GET the bytes", "GET", found.headers.get("Location") or found.field("URI"))
    await c.call("HEAD of download-loc", "HEAD", f"{BLOB}/download-loc/{old_name}", auth=auth)
    await c.call(
        "remove-loc of the unicode name", "GET", f"{BLOB}/remove-loc/{old_name}", auth=auth
    )


async def errors_on_every_route(c: KinveyClient) -> None:
    user = await new_user(c, "route-errors")
    auth = c.auth(user)
    coll = f"/appdata/{APP_KEY}/{c.unique('errs')}"
    bad = {"query": "{nope"}
    nothing = c.unique("nofile")
    await c.call("appdata: bad query on _count", "GET", f"{coll}/_count", auth=auth, params=bad)
    await c.call("appdata: bad query on delete", "DELETE", coll, auth=auth, params=bad)
    await c.call("appdata: update with an array", "PUT", f"{coll}/x", auth=auth, body=[1])
    await c.call("appdata: _group without a body", "POST", f"{coll}/_group", auth=auth)
    since = {**bad, "since": "2020-01-01T00:00:00.000Z"}
    await c.call(
        "appdata: bad query on _deltaset", "GET", f"{coll}/_deltaset", auth=auth, params=since
    )
    await c.call("user: read a missing user", "GET", f"{USERS}/{'1' * 24}", auth=auth)
    await c.call("user: signup with a string", "POST", USERS, auth=APP_AUTH, body="x")
    await c.call("user: query with bad syntax", "GET", USERS, auth=auth, params=bad)
    await c.call("user: _restore as a user", "POST", f"{USERS}/{user.user_id}/_restore", auth=auth)
    await c.call("user: _lookup without credentials", "POST", f"{USERS}/_lookup", body={"a": 1})
    await c.call("user: wrong master secret", "GET", USERS, auth=basic(APP_KEY, "not-the-master"))
    await c.call("user: _me with the master secret", "GET", f"{USERS}/_me", auth=MASTER_AUTH)
    await c.call("blob: read a missing file", "GET", f"{BLOB}/{nothing}", auth=auth)
    await c.call("blob: delete a missing file", "DELETE", f"{BLOB}/{nothing}", auth=auth)
    await c.call(
        "blob: remove-loc of a missing file", "GET", f"{BLOB}/remove-loc/{nothing}", auth=auth
    )
    typed = {"X-Kinvey-Content-Type": "text/plain"}  # v4+ would refuse its absence first
    await c.call(
        "blob: metadata that is not JSON", "POST", BLOB, auth=auth, raw_body=b"{", headers=typed
    )
    rpc = f"/rpc/{APP_KEY}"
    await c.call(
        "rpc: malformed JSON to an endpoint", "POST", f"{rpc}/custom/x", auth=auth, raw_body=b"[{"
    )
    reset = f"{rpc}/{user.username}/user-password-reset-initiate"
    await c.call("rpc: password reset as a user", "POST", reset, auth=auth)
    await c.call(
        "push: a bad body", "POST", f"{PUSH}/unregister-device", auth=auth, body={"platform": 1}
    )
