"""User scenarios: signup and login, session vs Basic auth, user delete/restore, social login.

The steps a scenario takes depend only on the client version, never on what came back, so the
reference run and the gateway run line up step for step.
"""

from __future__ import annotations

from tests.conftest import APP_KEY
from tests.e2e.accounts import LOGIN, ME, USERS, log_in, new_user, session_token
from tests.e2e.client import APP_AUTH, MASTER_AUTH, KinveyClient, User, basic


async def signup_and_login(c: KinveyClient) -> None:
    user = User(c.unique("alice"), "pw-alice")
    creds = {"username": user.username, "password": user.password}
    signup = await c.call("signup", "POST", USERS, auth=APP_AUTH, body={**creds, "city": "Boston"})
    await c.call("signup with a taken username", "POST", USERS, auth=APP_AUTH, body=creds)
    if 1 <= c.version <= 5:  # v1-v5 SDKs use the token the signup hands back
        token = signup.field("_kmd", "authtoken")
        await c.call("_me with the signup's token", "GET", ME, auth=f"Kinvey {token}")
    if c.version == 0:
        await c.call("session login (v0 has none)", "POST", LOGIN, auth=APP_AUTH, body=creds)
        await c.call("v0 login: _me with Basic", "GET", ME, auth=c.auth(user))
        await c.call("v0 login with a wrong password", "GET", ME, auth=basic(user.username, "x"))
    else:
        login = await c.call("login", "POST", LOGIN, auth=APP_AUTH, body=creds)
        token = session_token(login)
        await c.call("_me with the login's token", "GET", ME, auth=f"Kinvey {token}")
        wrong = {"username": user.username, "password": "wrong"}
        await c.call("login with a wrong password", "POST", LOGIN, auth=APP_AUTH, body=wrong)
        nobody = {"username": c.unique("nobody"), "password": "x"}
        await c.call("login of an unknown user", "POST", LOGIN, auth=APP_AUTH, body=nobody)
        partial = {"username": user.username}
        await c.call("login without a password", "POST", LOGIN, auth=APP_AUTH, body=partial)
    implicit = await c.call(
        "implicit user signup (empty body)", "POST", USERS, auth=APP_AUTH, body={}
    )
    made = User(str(implicit.field("username")), str(implicit.field("password")))
    if c.version == 0:
        await c.call("_me with the generated credentials", "GET", ME, auth=c.auth(made))
    else:
        generated = {"username": made.username, "password": made.password}
        await c.call(
            "login with the generated credentials", "POST", LOGIN, auth=APP_AUTH, body=generated
        )


async def session_and_basic_auth(c: KinveyClient) -> None:
    user = await new_user(c, "bob")
    entity = f"/appdata/{APP_KEY}/{c.unique('notes')}/n1"
    await c.call(None, "PUT", entity, auth=MASTER_AUTH, body={"text": "hi"}, expect=201)
    as_basic = basic(user.username, user.password)
    await c.call("data call with Basic user credentials", "GET", entity, auth=as_basic)
    await c.call("_me with Basic user credentials", "GET", ME, auth=as_basic)
    wrong = basic(user.username, "wrong")
    await c.call("data call with a wrong Basic password", "GET", entity, auth=wrong)
    unknown = basic(c.unique("ghost"), "x")
    await c.call("data call with Basic of an unknown user", "GET", entity, auth=unknown)
    await c.call("data call with the app secret", "GET", entity, auth=APP_AUTH)
    await c.call("data call with the master secret", "GET", entity, auth=MASTER_AUTH)
    await c.call("data call with a made-up session", "GET", entity, auth="Kinvey made-up")
    # A password change must end the old password at once, also where the gateway had
    # exchanged it for a cached session (v0-v5 Basic on a v6 upstream).
    new_password = {"username": user.username, "password": "pw-bob-2"}
    me = f"{USERS}/{user.user_id}"
    await c.call("change the password", "PUT", me, auth=c.auth(user), body=new_password)
    await c.call("data call with the old Basic password", "GET", entity, auth=as_basic)
    renewed = basic(user.username, "pw-bob-2")
    await c.call("data call with the new Basic password", "GET", entity, auth=renewed)
    user.password = "pw-bob-2"
    as_basic = renewed
    if c.version == 0:
        # A real session, minted at v1 on the same backend: v0 still must not accept it.
        v1 = KinveyClient(c.http, c.base_url, 1)
        await log_in(v1, user)
        real = f"Kinvey {user.token}"
        await c.call("data call with a (v1) session token", "GET", entity, auth=real)
        await c.call("logout (v0 has no sessions)", "POST", f"{USERS}/_logout", auth=as_basic)
        return
    # Logging out with Basic ends no session of the client's; where the gateway exchanged the
    # Basic credentials, it ends the gateway's cached one, which must then be replaced.
    await c.call("logout with Basic credentials", "POST", f"{USERS}/_logout", auth=as_basic)
    await c.call("data call with Basic after that logout", "GET", entity, auth=as_basic)
    session = f"Kinvey {user.token}"
    await c.call("data call with the session", "GET", entity, auth=session)
    await c.call("_me with the session", "GET", ME, auth=session)
    await c.call("logout", "POST", f"{USERS}/_logout", auth=session)
    await c.call("data call with the logged-out session", "GET", entity, auth=session)


async def user_delete_and_restore(c: KinveyClient) -> None:
    flags = {"plain": {}, "soft": {"soft": "true"}, "hard": {"hard": "true"}}
    for mode, params in flags.items():
        user = await new_user(c, f"del-{mode}")
        path = f"{USERS}/{user.user_id}"
        creds = {"username": user.username, "password": user.password}
        await c.call(
            f"{mode}: the user deletes itself", "DELETE", path, auth=c.auth(user), params=params
        )
        await c.call(f"{mode}: the user's own credentials", "GET", ME, auth=c.auth(user))
        if c.version >= 1:
            await c.call(f"{mode}: login", "POST", LOGIN, auth=APP_AUTH, body=creds)
        await c.call(f"{mode}: the master reads the user", "GET", path, auth=MASTER_AUTH)
        await c.call(
            f"{mode}: the master restores the user", "POST", f"{path}/_restore", auth=MASTER_AUTH
        )
        if c.version == 0:
            await c.call(f"{mode}: _me with Basic after restore", "GET", ME, auth=c.auth(user))
        else:
            await c.call(f"{mode}: login after restore", "POST", LOGIN, auth=APP_AUTH, body=creds)


async def social_login_refresh_error(c: KinveyClient) -> None:
    identity = {"_socialIdentity": {"facebook": {"access_token": "expired", "expires": 0}}}
    await c.call(
        "social login whose token refresh fails", "POST", LOGIN, auth=APP_AUTH, body=identity
    )
    await c.call(
        "social signup whose token refresh fails", "POST", USERS, auth=APP_AUTH, body=identity
    )
