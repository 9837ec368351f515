"""MFA scenarios (v6): login of an account that requires MFA, and the MFA endpoints.

Below v6 the endpoints do not exist (400 FeatureUnavailable) and the backend knows no MFA, so
such an account simply logs in. Where the gateway cannot bridge that gap the spec fixes what
happens instead; those pairs are in ``divergences.py``.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import APP_KEY
from tests.e2e.accounts import LOGIN, ME, USERS, new_user, require_mfa, session_token
from tests.e2e.client import APP_AUTH, MASTER_AUTH, KinveyClient, basic

MFA_CODE = "123456"  # the code the emulator accepts


async def mfa_account_login(c: KinveyClient) -> None:
    user = await new_user(c, "mfa-login")
    await require_mfa(c, user)
    creds = {"username": user.username, "password": user.password}
    if c.version == 0:
        await c.call("v0 login of an MFA account (_me with Basic)", "GET", ME, auth=c.auth(user))
        return
    await c.call("login of an MFA account", "POST", LOGIN, auth=APP_AUTH, body=creds)
    entity = f"/appdata/{APP_KEY}/{c.unique('mfa-notes')}"
    as_basic = basic(user.username, user.password)
    await c.call("data call with Basic credentials of an MFA account", "GET", entity, auth=as_basic)


def _first_authenticator(answer: Any) -> str:
    found = answer.get("authenticators") if isinstance(answer, dict) else None
    if isinstance(found, list) and found and isinstance(found[0], dict):
        return str(found[0].get("id"))
    return "none"


async def mfa_endpoints(c: KinveyClient) -> None:
    user = await new_user(c, "mfa-flow")
    await require_mfa(c, user)
    creds = {"username": user.username, "password": user.password}
    started = await c.call(None, "POST", LOGIN, auth=APP_AUTH, body=creds) if c.version else None
    answer = started.json if started is not None else None
    mfa_session = answer.get("mfaSessionToken") if isinstance(answer, dict) else None
    mfa_auth = f"KinveyMFA {mfa_session or 'none'}"
    challenge = {"authenticatorId": _first_authenticator(answer)}
    mfa = f"{USERS}/mfa"
    await c.call("mfa challenge", "POST", f"{mfa}/challenge", auth=mfa_auth, body=challenge)
    wrong = {"code": "000000"}
    await c.call(
        "mfa complete with a wrong code", "POST", f"{mfa}/complete", auth=mfa_auth, body=wrong
    )
    right = {"code": MFA_CODE, "createDeviceToken": True}
    done = await c.call("mfa complete", "POST", f"{mfa}/complete", auth=mfa_auth, body=right)
    authenticators = f"{USERS}/{user.user_id}/authenticators"
    await c.call("list authenticators", "GET", authenticators, auth=MASTER_AUTH)
    added = {"type": "totp", "name": "Phone"}
    await c.call("add an authenticator", "POST", authenticators, auth=MASTER_AUTH, body=added)
    if c.version == 6:
        session = f"Kinvey {session_token(done)}"
        await c.call("_me with the session MFA gave", "GET", ME, auth=session)
        trusted = {**creds, "deviceToken": done.field("deviceToken")}
        await c.call("login from a trusted device", "POST", LOGIN, auth=APP_AUTH, body=trusted)
