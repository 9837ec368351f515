"""User accounts for scenarios: quiet signup and login the way each version's SDK does them."""

from __future__ import annotations

from tests.conftest import APP_KEY
from tests.e2e.client import APP_AUTH, MASTER_AUTH, KinveyClient, Reply, SetupFailed, User

USERS = f"/user/{APP_KEY}"
LOGIN = f"/user/{APP_KEY}/login"
ME = f"/user/{APP_KEY}/_me"


def session_token(reply: Reply) -> str | None:
    """The token of a login answer: v6 wraps it (``authToken``), v1-v5 put it in ``_kmd``."""
    wrapped = reply.field("authToken")
    if isinstance(wrapped, str):
        return wrapped
    bare = reply.field("_kmd", "authtoken")
    return bare if isinstance(bare, str) else None


def login_user(reply: Reply) -> dict[str, object]:
    wrapped = reply.field("user")
    if isinstance(wrapped, dict):
        return wrapped
    return reply.json if isinstance(reply.json, dict) else {}


async def new_user(client: KinveyClient, label: str) -> User:
    """Sign up (app secret) and, from v1 on, log in: the user an app would have in hand."""
    user = User(client.unique(label), f"pw-{label}")
    created = await client.call(
        None,
        "POST",
        USERS,
        auth=APP_AUTH,
        body={"username": user.username, "password": user.password},
        expect=201,
    )
    user.user_id = str(created.field("_id"))
    if client.version >= 1:
        await log_in(client, user)
    return user


async def log_in(client: KinveyClient, user: User) -> None:
    reply = await client.call(
        None,
        "POST",
        LOGIN,
        auth=APP_AUTH,
        body={"username": user.username, "password": user.password},
        expect=200,
    )
    user.token = session_token(reply)
    if user.token is None:
        raise SetupFailed(f"login of {user.username} gave no token: {reply.raw[:300]!r}")


async def require_mfa(client: KinveyClient, user: User) -> None:
    """Mark the account ``mfaRequired`` (as the console would), with the master secret."""
    await client.call(
        None,
        "PUT",
        f"{USERS}/{user.user_id}",
        auth=MASTER_AUTH,
        body={"username": user.username, "mfaRequired": True},
        expect=200,
    )
