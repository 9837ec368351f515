"""Issue 14's gaps, each as a matrix scenario: what the wider surface of a real app sees.

- ``app-credentials``: the app's own Basic credentials (or another app's) on a path naming
  another or an unknown app reach the upstream untouched (``404 AppNotFound``), never a user
  login made on the client's behalf.
- ``social-signup``: a sign-up with ``_socialIdentity`` and no password; v1-v5 get a session
  token from it (the gateway logs in with the same identity on a v6 upstream).
- ``recovery-codes``: the v6 MFA recovery codes (list, regenerate) are ``FeatureUnavailable``
  below v6, and a pre-v6 login of an MFA account carrying a valid recovery code stays refused.
- ``gateway-answers``: refused version headers (``-1`` is echoed), and CORS: the headers of
  answers the gateway may make itself and of preflights (which carry no version header).
- ``expect-continue``: inserts, sign-ups and uploads from a client that sends ``Expect:
  100-continue`` and holds its body back until it gets ``100 Continue``.

Requests a client makes outside its SDK's usual headers (preflights, refused versions,
``Expect``) are recorded as notes of what a browser or client reads from them.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from yarl import URL

from tests.conftest import APP_KEY, MASTER_SECRET
from tests.e2e.accounts import LOGIN, ME, USERS, new_user, require_mfa, session_token
from tests.e2e.client import APP_AUTH, MASTER_AUTH, KinveyClient, basic

UNKNOWN_APP = "kid_unknown_app"
# Far ahead (2100-01-01): the emulator trusts a social identity whose token is current.
CURRENT_TOKEN_EXPIRES = 4102444800
ORIGIN = "http://app.example"
CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
)
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)


async def app_credentials_elsewhere(c: KinveyClient) -> None:
    elsewhere = f"/appdata/{UNKNOWN_APP}/{c.unique('things')}"
    await c.call("app credentials on an unknown app's data", "GET", elsewhere, auth=APP_AUTH)
    await c.call("master secret on an unknown app's data", "GET", elsewhere, auth=MASTER_AUTH)
    wrong = basic(APP_KEY, "not-the-secret")
    await c.call("wrong app secret on an unknown app's data", "GET", elsewhere, auth=wrong)
    await c.call(
        "app credentials, unknown app's _me", "GET", f"/user/{UNKNOWN_APP}/_me", auth=APP_AUTH
    )
    creds = {"username": c.unique("nobody"), "password": "pw"}
    await c.call(
        "app credentials, signup on an unknown app", "POST", f"/user/{UNKNOWN_APP}",
        auth=APP_AUTH, body=creds,
    )  # fmt: skip
    mine = f"/appdata/{APP_KEY}/{c.unique('things')}"
    other = basic(UNKNOWN_APP, MASTER_SECRET)
    await c.call("another app's credentials on this app's data", "GET", mine, auth=other)


def _social_identity(c: KinveyClient) -> dict[str, Any]:
    details = {
        "id": c.unique("fb-user"),
        "access_token": "current",
        "expires": CURRENT_TOKEN_EXPIRES,
    }
    return {"facebook": details}


async def social_signup(c: KinveyClient) -> None:
    identity = {"_socialIdentity": _social_identity(c)}
    signup = await c.call("social signup", "POST", USERS, auth=APP_AUTH, body=identity)
    if 1 <= c.version <= 5:  # v1-v5 SDKs use the token the signup hands back
        token = signup.field("_kmd", "authtoken")
        await c.call("_me with the social signup's token", "GET", ME, auth=f"Kinvey {token}")
    await c.call("social signup of a known identity", "POST", USERS, auth=APP_AUTH, body=identity)
    if c.version >= 1:
        login = await c.call("social login", "POST", LOGIN, auth=APP_AUTH, body=identity)
        token = session_token(login)
        await c.call("_me with the social login's token", "GET", ME, auth=f"Kinvey {token}")
    stranger = {"_socialIdentity": _social_identity(c)}
    if c.version >= 1:
        await c.call(
            "social login of an unknown identity", "POST", LOGIN, auth=APP_AUTH, body=stranger
        )


def _first_code(listed: Any) -> str:
    codes = listed.get("recoveryCodes") if isinstance(listed, dict) else None
    return str(codes[0]) if isinstance(codes, list) and codes else "none"


async def recovery_codes(c: KinveyClient) -> None:
    user = await new_user(c, "recovery")
    await require_mfa(c, user)
    codes = f"{USERS}/{user.user_id}/recovery-codes"
    await c.call("list recovery codes", "GET", codes, auth=MASTER_AUTH)
    await c.call("regenerate recovery codes", "POST", codes, auth=MASTER_AUTH)
    if c.version == 0:
        return
    # A real code, fetched at v6 (as the account's owner could, in a newer app): an older app
    # must still not log the MFA account in with it.
    newest = KinveyClient(c.http, c.base_url, 6)
    listed = await newest.call(None, "GET", codes, auth=MASTER_AUTH)
    creds = {"username": user.username, "password": user.password}
    with_code = {**creds, "recoveryCode": _first_code(listed.json)}
    await c.call(
        "login of an MFA account with a recovery code", "POST", LOGIN, auth=APP_AUTH,
        body=with_code,
    )  # fmt: skip


def _what_was_read(c: KinveyClient, status: int, raw: bytes) -> dict[str, Any]:
    """Status and error name of an answer (v0 errors carry free text: only their shape counts)."""
    seen: dict[str, Any] = {"status": status, "body": bool(raw)}
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = "<not JSON>"
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        v0_shape = set(parsed) == {"error"}
        seen["error"] = "<v0 text>" if v0_shape and c.version == 0 else parsed["error"]
    return seen


async def _note_answer(
    c: KinveyClient, step: str, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> None:
    """Record what a browser reads of one answer: status, version echo, error, CORS headers."""
    url = URL(c.base_url + path, encoded=True)
    async with c.http.request(
        method, url, headers=headers, data=body or None, timeout=REQUEST_TIMEOUT
    ) as answer:
        seen = _what_was_read(c, answer.status, await answer.read())
        seen["api-version"] = answer.headers.get("X-Kinvey-API-Version", "<absent>")
        for name in CORS_HEADERS:
            seen[name] = answer.headers.get(name, "<absent>")
    c.note(step, seen)


async def gateway_answers(c: KinveyClient) -> None:
    handshake = f"/appdata/{APP_KEY}"
    for value in ("-1", "99", "abc"):
        headers = {"X-Kinvey-API-Version": value, "Authorization": APP_AUTH, "Origin": ORIGIN}
        await _note_answer(c, f"version header {value}", "GET", handshake, headers)
    wanted = "authorization,content-type,x-kinvey-api-version"
    for method, path in (
        ("POST", f"/blob/{APP_KEY}"),
        ("PUT", f"/appdata/{APP_KEY}/things/t1"),
        ("POST", f"/user/{APP_KEY}/login"),
        ("POST", f"/user/{APP_KEY}/mfa/challenge"),
    ):
        preflight = {
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": wanted,
        }
        await _note_answer(c, f"preflight of {method} {path}", "OPTIONS", path, preflight)
    origin = {"Origin": ORIGIN, "X-Kinvey-API-Version": str(c.version), "Authorization": APP_AUTH}
    await _note_answer(c, "a cross-origin handshake", "GET", handshake, origin)
    # v0-v4 get 400 FeatureUnavailable, made by the gateway itself on a v5+ upstream.
    things = f"/appdata/{APP_KEY}/{c.unique('cors-things')}"
    inserting = {**origin, "Authorization": MASTER_AUTH, "Content-Type": "application/json"}
    await _note_answer(c, "a cross-origin array insert", "POST", things, inserting, b"[{}, {}]")


async def _with_expect(
    c: KinveyClient, step: str, method: str, url: str, body: bytes, headers: dict[str, str]
) -> None:
    """Send with ``Expect: 100-continue``: aiohttp holds the body until ``100 Continue``."""
    try:
        async with c.http.request(
            method, URL(url, encoded=True), data=body, headers=headers, expect100=True,
            timeout=REQUEST_TIMEOUT,
        ) as answer:  # fmt: skip
            c.note(step, _what_was_read(c, answer.status, await answer.read()))
    except TimeoutError:
        c.note(step, "no answer: the body was never asked for")


async def expect_continue(c: KinveyClient) -> None:
    json_headers = {"X-Kinvey-API-Version": str(c.version), "Content-Type": "application/json"}
    app = {**json_headers, "Authorization": APP_AUTH}
    signup = b'{"username": "%s", "password": "pw"}' % c.unique("expect").encode()
    await _with_expect(c, "signup", "POST", f"{c.base_url}{USERS}", signup, app)
    things = f"{c.base_url}/appdata/{APP_KEY}/{c.unique('expect-things')}"
    master = {**json_headers, "Authorization": MASTER_AUTH}
    await _with_expect(c, "insert", "POST", things, b'{"n": 1}', master)
    await _with_expect(c, "insert of an array", "POST", things, b'[{"n": 2}, {"n": 3}]', master)
    if c.version >= 3:
        metadata = b'{"_filename": "expect.txt", "mimeType": "text/plain", "size": 5}'
        await _with_expect(
            c, "file metadata", "POST", f"{c.base_url}/blob/{APP_KEY}", metadata, master
        )
        return
    name = c.unique("expect.txt")
    located = await c.call(
        "upload-loc", "GET", f"/blob/{APP_KEY}/upload-loc/{name}", auth=MASTER_AUTH
    )
    uri = located.field("URI")
    if isinstance(uri, str):
        await _with_expect(
            c, "upload of the bytes", "PUT", uri, b"hello", {"Content-Type": "text/plain"}
        )
