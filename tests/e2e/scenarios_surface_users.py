"""User-surface scenarios: ``_me``, update, ``_lookup``, user ``_count``, the user RPCs, and Basic
credentials whose username or password carry non-ASCII characters and ``:``.

Through a gateway pinned to 6, every user call of a v0-v5 client with Basic credentials is
served by a login upstream (spec §4 v6); a password is split at the first ``:`` only and is
UTF-8 (RFC 7617), so these must reach that login unchanged.
"""

from __future__ import annotations

import json

from tests.conftest import APP_KEY
from tests.e2e.accounts import LOGIN, ME, USERS, new_user
from tests.e2e.client import APP_AUTH, MASTER_AUTH, KinveyClient, User, basic

RPC = f"/rpc/{APP_KEY}"


async def user_surface(c: KinveyClient) -> None:
    user = await new_user(c, "surface")
    other = await new_user(c, "neighbour")
    auth = c.auth(user)
    city = c.unique("city")
    await c.call("_me", "GET", ME, auth=auth)
    changes = {"username": user.username, "email": _email(c, user), "city": city}
    await c.call("update oneself", "PUT", f"{USERS}/{user.user_id}", auth=auth, body=changes)
    await c.call("_me after the update", "GET", ME, auth=auth)
    await c.call("read another user", "GET", f"{USERS}/{other.user_id}", auth=auth)
    await c.call(
        "update another user", "PUT", f"{USERS}/{other.user_id}", auth=auth, body={"city": city}
    )
    await c.call("_lookup by city", "POST", f"{USERS}/_lookup", auth=auth, body={"city": city})
    await c.call("_lookup with an empty query", "POST", f"{USERS}/_lookup", auth=auth, body={})
    await c.call("_lookup with the app secret", "POST", f"{USERS}/_lookup", auth=APP_AUTH, body={})
    by_city = {"query": json.dumps({"city": city})}
    await c.call("user _count with a query", "GET", f"{USERS}/_count", auth=auth, params=by_city)
    await c.call("user query by city", "GET", USERS, auth=auth, params=by_city)
    await c.call("user _count without credentials", "GET", f"{USERS}/_count")
    await _user_rpcs(c, user, other)


def _email(c: KinveyClient, user: User) -> str:
    """The user's address, shown in observations as ``<label@example.com>``."""
    email = f"{user.username}@example.com"
    c.normalizer.names.setdefault(email, c.normalizer.names[user.username][:-1] + "@example.com>")
    return email


async def _user_rpcs(c: KinveyClient, user: User, other: User) -> None:
    email = _email(c, user)
    for step, who in (
        ("password reset by username", user.username),
        ("password reset by email", email),
        ("password reset of an unknown user", c.unique("nobody")),
    ):
        await c.call(step, "POST", f"{RPC}/{who}/user-password-reset-initiate", auth=APP_AUTH)
    await c.call(
        "password reset without credentials",
        "POST",
        f"{RPC}/{user.username}/user-password-reset-initiate",
    )
    verify = "user-email-verification-initiate"
    await c.call("email verification", "POST", f"{RPC}/{user.username}/{verify}", auth=APP_AUTH)
    await c.call(
        "email verification of a user without email",
        "POST",
        f"{RPC}/{other.username}/{verify}",
        auth=APP_AUTH,
    )
    await c.call(
        "email verification of an unknown user",
        "POST",
        f"{RPC}/{c.unique('ghost')}/{verify}",
        auth=APP_AUTH,
    )
    forgot = f"{RPC}/user-forgot-username"
    await c.call("forgot username", "POST", forgot, auth=APP_AUTH, body={"email": email})
    await c.call("forgot username without email", "POST", forgot, auth=APP_AUTH, body={})
    check = f"{RPC}/check-username-exists"
    for step, name in (
        ("username check, taken", user.username),
        ("username check, free", c.unique("free")),
    ):
        await c.call(step, "POST", check, auth=APP_AUTH, body={"username": name})
    await c.call("username check without a username", "POST", check, auth=APP_AUTH, body={})


async def basic_credentials(c: KinveyClient) -> None:
    """Non-ASCII usernames and passwords with ``:`` in them, on every kind of call."""
    entity = f"/appdata/{APP_KEY}/{c.unique('vault')}/v1"
    await c.call(None, "PUT", entity, auth=MASTER_AUTH, body={"secret": 42}, expect=201)
    cases = (
        ("ümlaut", "pä:ss:wörd"),
        ("trailing", "ends-with:"),
        ("colon-first", ":starts"),
    )
    for label, password in cases:
        user = User(c.unique(label), password)
        creds = {"username": user.username, "password": password}
        await c.call(f"{label}: signup", "POST", USERS, auth=APP_AUTH, body=creds)
        if c.version >= 1:
            await c.call(f"{label}: login", "POST", LOGIN, auth=APP_AUTH, body=creds)
        as_basic = basic(user.username, password)
        await c.call(f"{label}: _me with Basic", "GET", ME, auth=as_basic)
        await c.call(f"{label}: data call with Basic", "GET", entity, auth=as_basic)
        cut = basic(user.username, password.split(":", 1)[0])
        await c.call(f"{label}: Basic with the password cut at ':'", "GET", entity, auth=cut)
    await c.call("Basic that is not base64", "GET", entity, auth="Basic %%not-base64%%")
    await c.call("Basic without a colon", "GET", entity, auth="Basic bm9jb2xvbg==")
