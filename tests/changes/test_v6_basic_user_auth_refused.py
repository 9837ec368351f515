"""v6 refuses user Basic auth: older clients' Basic is exchanged for a cached session."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import aiohttp
import pytest

from gateway.changes.upstream_login import MFA_NOT_SUPPORTED
from gateway.emulator import EmulatorConfig, create_emulator_app
from gateway.emulator.app import STORE_KEY
from gateway.emulator.store import EmulatorStore
from gateway.kinvey.auth import split_authorization
from gateway.settings import load_settings
from gateway.versioning import RequestInfo, ResponseInfo
from tests.changes.support import (
    APP_AUTH,
    MASTER_AUTH,
    AppClient,
    Harness,
    StartGatewayOnEmulator,
    error_answer,
    json_answer,
)
from tests.conftest import APP_KEY, APP_SECRET, MASTER_SECRET, StartGateway, StartUpstream
from tests.support.kinvey_client import KinveyClient, basic

BOOKS = f"/appdata/{APP_KEY}/books"
ME = f"/user/{APP_KEY}/_me"
LOGIN = f"/user/{APP_KEY}/login"


class ScriptedKinvey:
    """A v6 upstream in miniature: logins hand out tokens, data calls need a live token."""

    def __init__(self) -> None:
        self.passwords = {"ann": "pw-ann", "bob": "pw-bob", "mo": "pw-mo"}
        self.sessions: dict[str, str] = {}
        self.refuse_with = "InvalidCredentials"

    async def __call__(self, request: RequestInfo) -> ResponseInfo:
        scheme, value = split_authorization(request.headers.get("Authorization"))
        if request.route.name == "user.login":
            assert request.headers["Authorization"] == APP_AUTH
            body = request.json
            if self.passwords.get(body["username"]) != body["password"]:
                return error_answer("InvalidCredentials", 401, "Wrong username or password")
            if body["username"] == "mo":
                return json_answer(200, {"mfaRequired": True, "mfaSessionToken": "m"})
            token = f"tok-{body['username']}-{len(self.sessions)}"
            self.sessions[token] = body["username"]
            user = {"_id": body["username"], "username": body["username"], "_kmd": {}}
            return json_answer(200, {"mfaRequired": False, "user": user, "authToken": token})
        if scheme == "basic":
            return json_answer(200, {"auth": "app"})
        if scheme != "kinvey" or value not in self.sessions:
            return error_answer(self.refuse_with, 401)
        who = self.sessions[value]
        kmd = {"authtoken": value, "lmt": "t"}
        return json_answer(200, {"_id": who, "username": who, "_kmd": kmd, "path": request.path})


def _user_request(harness: Harness, path: str = BOOKS, **kwargs: Any) -> RequestInfo:
    headers = {"Authorization": basic("ann", "pw-ann"), "X-Kinvey-Client-App-Version": "1.2"}
    return harness.request("GET", path, 3, 6, headers=headers, **kwargs)


async def test_user_basic_is_exchanged_once_for_a_session_that_is_reused() -> None:
    harness, kinvey = Harness(), ScriptedKinvey()
    first = await harness.run(_user_request(harness), kinvey)
    second = await harness.run(_user_request(harness), kinvey)
    assert first.json["username"] == second.json["username"] == "ann"
    login, data, again = harness.seen
    assert (login.method, login.raw_path) == ("POST", LOGIN)
    assert json.loads(login.body or b"") == {"username": "ann", "password": "pw-ann"}
    assert data.headers["Authorization"] == again.headers["Authorization"] == "Kinvey tok-ann-0"
    assert data.headers["X-Kinvey-Client-App-Version"] == "1.2"
    assert harness.metrics.auth == [
        ("basic_to_session", "ok", "miss"),
        ("basic_to_session", "ok", "hit"),
    ]


@pytest.mark.parametrize(
    "authorization",
    [APP_AUTH, MASTER_AUTH, "Kinvey abc", None, "Basic not-base64!"],
)
async def test_app_credentials_sessions_and_garbage_pass_untouched(
    authorization: str | None,
) -> None:
    harness = Harness()
    headers = {"Authorization": authorization} if authorization else {}
    request = harness.request("GET", BOOKS, 3, 6, headers=headers)
    await harness.run(request, ScriptedKinvey())
    [seen] = harness.seen
    assert seen.headers.get("Authorization") == authorization
    assert harness.metrics.auth == []


async def test_wrong_credentials_get_the_login_answer_exactly() -> None:
    harness, kinvey = Harness(), ScriptedKinvey()
    request = harness.request("GET", BOOKS, 3, 6, headers={"Authorization": basic("ann", "no")})
    response = await harness.run(request, kinvey)
    assert response.status == 401
    assert (
        response.body == error_answer("InvalidCredentials", 401, "Wrong username or password").body
    )
    assert [seen.raw_path for seen in harness.seen] == [LOGIN]
    assert harness.metrics.auth == [("basic_to_session", "invalid_credentials", "miss")]


async def test_an_mfa_account_cannot_use_basic_from_an_old_app() -> None:
    harness = Harness()
    request = harness.request("GET", BOOKS, 5, 6, headers={"Authorization": basic("mo", "pw-mo")})
    response = await harness.run(request, ScriptedKinvey())
    assert response.status == 401 and response.json["description"] == MFA_NOT_SUPPORTED
    assert harness.metrics.auth == [("basic_to_session", "mfa_required", "miss")]


async def test_without_an_app_secret_the_gateway_says_so() -> None:
    harness = Harness(app_secret=None)
    response = await harness.run(_user_request(harness), ScriptedKinvey())
    assert response.status == 401 and response.json["error"] == "InvalidCredentials"
    assert "no app secret" in response.json["debug"]
    assert harness.seen == []
    assert harness.metrics.auth == [("basic_to_session", "no_app_secret", "none")]


async def test_an_expired_session_is_dropped_and_the_call_retried_once_after_a_new_login() -> None:
    harness, kinvey = Harness(), ScriptedKinvey()
    await harness.run(_user_request(harness), kinvey)
    kinvey.sessions.clear()  # the upstream forgot the session
    response = await harness.run(_user_request(harness), kinvey)
    assert response.status == 200 and response.json["username"] == "ann"
    tokens = [seen.headers["Authorization"] for seen in harness.seen[1:]]
    assert [seen.raw_path for seen in harness.seen[2:]] == [BOOKS, LOGIN, BOOKS]
    assert tokens == ["Kinvey tok-ann-0", "Kinvey tok-ann-0", APP_AUTH, "Kinvey tok-ann-0"]
    assert harness.metrics.auth[-1] == ("basic_to_session", "ok", "miss")


async def test_insufficient_credentials_drop_the_session_but_are_not_retried() -> None:
    harness, kinvey = Harness(), ScriptedKinvey()
    await harness.run(_user_request(harness), kinvey)
    kinvey.sessions.clear()
    kinvey.refuse_with = "InsufficientCredentials"
    response = await harness.run(_user_request(harness), kinvey)
    assert response.status == 401 and response.json["error"] == "InsufficientCredentials"
    assert [seen.raw_path for seen in harness.seen] == [LOGIN, BOOKS, BOOKS]
    await harness.run(_user_request(harness), kinvey)  # any 401 dropped the cached session
    assert [seen.raw_path for seen in harness.seen[3:]] == [LOGIN, BOOKS]


async def test_a_streamed_upload_is_not_replayed_but_its_refused_token_is_dropped() -> None:
    harness, kinvey = Harness(), ScriptedKinvey()
    await harness.run(_user_request(harness), kinvey)
    kinvey.sessions.clear()
    streamed = _user_request(harness, raw_body=b"an upload read once")
    response = await harness.run(streamed, kinvey)
    assert response.status == 401
    assert [seen.raw_path for seen in harness.seen] == [LOGIN, BOOKS, BOOKS]
    response = await harness.run(_user_request(harness), kinvey)  # the client's own retry
    assert response.status == 200
    assert [seen.raw_path for seen in harness.seen[3:]] == [LOGIN, BOOKS]


async def test_the_gateway_token_never_shows_in_a_user_document() -> None:
    harness = Harness()
    response = await harness.run(_user_request(harness, ME), ScriptedKinvey())
    assert response.json == {"_id": "ann", "username": "ann", "_kmd": {"lmt": "t"}, "path": ME}


async def test_a_password_change_through_the_gateway_retires_the_old_password() -> None:
    harness, kinvey = Harness(), ScriptedKinvey()
    await harness.run(_user_request(harness), kinvey)
    headers = {"Authorization": basic("ann", "pw-ann")}
    change = harness.request(
        "PUT", f"/user/{APP_KEY}/ann", 3, 6, headers=headers, body={"password": "new"}
    )
    assert (await harness.run(change, kinvey)).status == 200
    kinvey.passwords["ann"] = "new"
    response = await harness.run(_user_request(harness), kinvey)
    assert response.status == 401  # the old password needs a login now, which fails


async def test_saving_an_entity_that_shares_a_users_id_keeps_that_users_session() -> None:
    """Only a saved *user* ends sessions: a data entity whose id happens to be a user id does
    not (the hook's route declaration is what tells them apart)."""
    harness, kinvey = Harness(), ScriptedKinvey()
    await harness.run(_user_request(harness), kinvey)
    headers = {"Authorization": basic("ann", "pw-ann")}
    save = harness.request("PUT", f"{BOOKS}/ann", 3, 6, headers=headers, body={"title": "x"})
    assert (await harness.run(save, kinvey)).status == 200
    assert (await harness.run(_user_request(harness), kinvey)).status == 200
    assert len(kinvey.sessions) == 1  # one login: the cached session served all three


async def test_a_failing_upstream_login_is_passed_on() -> None:
    harness = Harness()

    async def down(request: RequestInfo) -> ResponseInfo:
        return error_answer("KinveyInternalErrorRetry", 502, "could not connect")

    response = await harness.run(_user_request(harness), down)
    assert response.status == 502 and response.json["debug"] == "could not connect"
    assert harness.metrics.auth == [("basic_to_session", "error", "miss")]


async def test_v6_clients_on_an_older_upstream_cannot_use_user_basic() -> None:
    harness = Harness()
    user = harness.request("GET", BOOKS, 6, 5, headers={"Authorization": basic("ann", "pw")})
    response = await harness.run(user, ScriptedKinvey())
    assert response.status == 401 and response.json["error"] == "InvalidCredentials"
    assert harness.seen == []
    app = harness.request("GET", BOOKS, 6, 5, headers={"Authorization": APP_AUTH})
    assert (await harness.run(app, ScriptedKinvey())).json == {"auth": "app"}


async def _emulator_with_store(start_upstream: StartUpstream) -> tuple[str, EmulatorStore]:
    """A v6-only emulator whose store the test can reach (to expire sessions)."""
    config = EmulatorConfig(
        min_api_version=6,
        max_api_version=6,
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        master_secret=MASTER_SECRET,
    )
    app = create_emulator_app(config)
    return await start_upstream(app), app[STORE_KEY]


async def test_many_users_with_interleaved_wrong_passwords_each_get_their_own_session(
    start_upstream: StartUpstream, start_gateway: StartGateway, http_session: aiohttp.ClientSession
) -> None:
    upstream, store = await _emulator_with_store(start_upstream)
    gateway = await start_gateway(upstream, pin=6)
    names = [f"user{i}" for i in range(12)]
    v6 = AppClient(upstream, 6, session=http_session)
    for name in names:
        assert (await v6.signup(name, f"pw-{name}")).status == 201
    old = KinveyClient(gateway.url, 3, session=http_session)
    calls = [(name, f"pw-{name}") for name in names for _ in range(4)]
    calls += [
        (name, f"pw-{other}") for name, other in zip(names, names[1:] + names[:1], strict=True)
    ]
    calls += [(name, "") for name in names[:4]]
    random.Random(7).shuffle(calls)

    async def me(name: str, password: str) -> tuple[str, str, int, Any]:
        reply = await old.call("GET", ME, auth=basic(name, password))
        return name, password, reply.status, reply.json

    for name, password, status, body in await asyncio.gather(*(me(*c) for c in calls)):
        if password == f"pw-{name}":
            assert status == 200, body
            assert body["username"] == name
            assert "authtoken" not in body["_kmd"]
        else:
            assert status == 401 and body["error"] == "InvalidCredentials"
    ok_logins = gateway.registry.get_sample_value(
        "kgw_auth_exchanges_total",
        {"kind": "basic_to_session", "result": "ok", "cache": "miss"},
    )
    assert ok_logins == len(names)  # one login per user, however many calls raced
    assert len(store.sessions) == len(names)


async def test_end_to_end_v0_basic_calls_expired_sessions_and_disabled_users(
    start_upstream: StartUpstream, start_gateway: StartGateway
) -> None:
    upstream, store = await _emulator_with_store(start_upstream)
    gateway = await start_gateway(upstream, pin=6)
    async with aiohttp.ClientSession() as session:
        direct = AppClient(upstream, 6, session=session)
        created = await direct.signup("ann", "pw")
        v0 = KinveyClient(gateway.url, 0, session=session)
        ann = basic("ann", "pw")
        me = await v0.call("GET", ME, auth=ann)  # v0's "login"
        assert me.status == 200 and me.json["username"] == "ann", me.raw
        saved = await v0.call("POST", BOOKS, auth=ann, body={"title": "Dune"})
        assert saved.status == 201, saved.raw
        store.sessions.clear()  # the session expired upstream
        listed = await v0.call("GET", BOOKS, auth=ann)
        assert listed.status == 200 and [b["title"] for b in listed.json] == ["Dune"]
        wrong = await v0.call("GET", BOOKS, auth=basic("ann", "nope"))
        assert wrong.status == 401 and set(wrong.json) == {"error"}  # v0's error shape

        user_id = created.json["_id"]
        gone = await direct.call("DELETE", f"/user/{APP_KEY}/{user_id}", auth=MASTER_AUTH)
        assert gone.status == 204  # v6: soft delete disables the user, drops its sessions
        disabled = await v0.call("GET", BOOKS, auth=ann)
        assert disabled.status == 401

    no_secret = await start_gateway(
        upstream, pin=6, environ={f"KINVEY_GATEWAY_APP_SECRET_{APP_KEY}": ""}
    )
    async with aiohttp.ClientSession() as session:
        v3 = KinveyClient(no_secret.url, 3, session=session)
        refused = await v3.call("GET", BOOKS, auth=basic("bob", "pw"))
        assert refused.status == 401 and "no app secret" in refused.json["debug"]


async def test_end_to_end_v6_client_on_an_older_upstream(
    start_gateway_on_emulator: StartGatewayOnEmulator, http_session: aiohttp.ClientSession
) -> None:
    gateway = await start_gateway_on_emulator(5, versions=(0, 5))
    v6 = AppClient(gateway.url, 6, session=http_session)
    assert (await v6.signup("ann", "pw")).status == 201
    refused = await v6.call("GET", ME, auth=basic("ann", "pw"))
    assert refused.status == 401 and refused.json["error"] == "InvalidCredentials"
    v5 = KinveyClient(gateway.url, 5, session=http_session)
    assert (await v5.call("GET", ME, auth=basic("ann", "pw"))).status == 200


async def test_a_password_field_saved_in_another_collection_keeps_the_sessions() -> None:
    harness, kinvey = Harness(), ScriptedKinvey()
    await harness.run(_user_request(harness), kinvey)
    headers = {"Authorization": MASTER_AUTH}
    entity = {"username": "ann", "password": "not a user's"}
    save = harness.request(
        "PUT", f"/appdata/{APP_KEY}/people/p1", 3, 6, headers=headers, body=entity
    )
    assert (await harness.run(save, kinvey)).status == 200
    await harness.run(_user_request(harness), kinvey)
    assert [seen.raw_path for seen in harness.seen] == [LOGIN, BOOKS, save.raw_path, BOOKS]


APP_ELSEWHERE = [
    ("/appdata/kid_other/books", APP_AUTH),  # this app's key and secret, another app's path
    ("/user/kid_unknown/_me", MASTER_AUTH),
    ("/appdata/kid_other/books", basic(APP_KEY, "wrong-secret")),
    (BOOKS, basic("kid_other", "other-secret")),  # another app's credentials, this app's path
]


@pytest.mark.parametrize(("client", "upstream"), [(0, 6), (3, 6), (5, 6), (6, 5), (6, 3)])
@pytest.mark.parametrize(("path", "authorization"), APP_ELSEWHERE)
async def test_app_credentials_on_another_apps_path_reach_the_upstream_untouched(
    client: int, upstream: int, path: str, authorization: str
) -> None:
    """Issue 14: never exchanged for a session, never refused as user Basic; the upstream's
    answer (here 404 AppNotFound) is what the client gets, in its version's shape."""
    harness = Harness()

    async def kinvey(request: RequestInfo) -> ResponseInfo:
        return error_answer("AppNotFound", 404, "no such app")

    request = harness.request(
        "GET", path, client, upstream, headers={"Authorization": authorization}
    )
    response = await harness.run(request, kinvey)
    assert response.status == 404
    upstreams = error_answer("AppNotFound", 404, "no such app").json
    assert response.json == ({"error": "AppNotFound text"} if client == 0 else upstreams)
    assert [(seen.raw_path, seen.headers["Authorization"]) for seen in harness.seen] == [
        (path, authorization)
    ]
    assert harness.metrics.auth == []


async def test_a_configured_app_key_without_the_kid_prefix_is_an_app_too() -> None:
    environ = {
        f"KINVEY_GATEWAY_APP_SECRET_{APP_KEY}": APP_SECRET,
        "KINVEY_GATEWAY_APP_SECRET_legacyapp": "its-secret",
    }
    harness = Harness(settings=load_settings(None, environ))

    async def kinvey(request: RequestInfo) -> ResponseInfo:
        return error_answer("AppNotFound", 404)

    as_app = basic("legacyapp", "its-secret")
    request = harness.request("GET", "/appdata/kid_x/b", 3, 6, headers={"Authorization": as_app})
    assert (await harness.run(request, kinvey)).status == 404
    assert harness.seen[0].headers["Authorization"] == as_app
