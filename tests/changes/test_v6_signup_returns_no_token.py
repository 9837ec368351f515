"""v6 signup without a token: the gateway logs older clients in; v6 clients lose the token."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from gateway.versioning import RequestInfo, ResponseInfo
from tests.changes.support import (
    APP_AUTH,
    AppClient,
    Harness,
    StartGatewayOnEmulator,
    assert_untouched,
    error_answer,
    json_answer,
)
from tests.conftest import APP_KEY
from tests.support.kinvey_client import basic

SIGNUP = f"/user/{APP_KEY}"
CREATED = {"_id": "u1", "username": "ann", "_kmd": {"lmt": "t"}, "_acl": {"creator": "u1"}}


def _backend(login: ResponseInfo | None = None, signup: ResponseInfo | None = None):  # type: ignore[no-untyped-def]
    async def upstream(request: RequestInfo) -> ResponseInfo:
        if request.route.name == "user.login":
            assert login is not None, "no login expected"
            return login
        return signup or json_answer(201, CREATED)

    return upstream


def _wrapped(token: str) -> ResponseInfo:
    return json_answer(200, {"mfaRequired": False, "user": CREATED, "authToken": token})


@pytest.mark.parametrize("client", [1, 3, 5])
async def test_older_clients_get_a_session_token_from_a_login_after_signup(client: int) -> None:
    harness = Harness()
    request = harness.request(
        "POST",
        SIGNUP,
        client,
        6,
        body={"username": "ann", "password": "s3cret", "age": 3},
        headers={"Authorization": APP_AUTH, "X-Kinvey-Device-Information": "dev"},
    )
    response = await harness.run(request, _backend(login=_wrapped("tok-1")))
    assert response.status == 201
    assert response.json == {**CREATED, "_kmd": {"lmt": "t", "authtoken": "tok-1"}}
    _signup, login = harness.seen
    assert (login.method, login.raw_path) == ("POST", f"/user/{APP_KEY}/login")
    assert json.loads(login.body or b"") == {"username": "ann", "password": "s3cret"}
    assert login.headers["Authorization"] == APP_AUTH  # the signup's own app credentials
    assert login.headers["X-Kinvey-Device-Information"] == "dev"
    assert harness.metrics.auth == [("login_after_signup", "ok", "none")]


async def test_an_implicit_user_logs_in_with_the_generated_credentials() -> None:
    harness = Harness()
    generated = {**CREATED, "username": "gen-user", "password": "gen-pass"}
    request = harness.request("POST", SIGNUP, 4, 6, headers={"Authorization": APP_AUTH})
    bare_login = json_answer(200, {**CREATED, "_kmd": {"authtoken": "tok-2"}})
    response = await harness.run(request, _backend(bare_login, json_answer(201, generated)))
    assert response.json["_kmd"]["authtoken"] == "tok-2"
    assert response.json["password"] == "gen-pass"  # shown once, as the upstream answered
    assert json.loads(harness.seen[1].body or b"") == {
        "username": "gen-user",
        "password": "gen-pass",
    }


@pytest.mark.parametrize(
    ("login", "result"),
    [
        (error_answer("InvalidCredentials", 401), "invalid_credentials"),
        (json_answer(200, {"mfaRequired": True, "mfaSessionToken": "m"}), "mfa_required"),
        (error_answer("KinveyInternalErrorRetry", 502), "error"),
        (json_answer(200, {"mfaRequired": False}), "error"),
    ],
)
async def test_a_failed_login_still_gives_the_created_user_without_a_token(
    login: ResponseInfo, result: str, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness()
    request = harness.request(
        "POST",
        SIGNUP,
        3,
        6,
        body={"username": "ann", "password": "s3cret"},
        headers={"Authorization": APP_AUTH},
    )
    with caplog.at_level(logging.INFO, logger="gateway.changes.signup"):
        response = await harness.run(request, _backend(login))
    assert response.status == 201
    assert response.json == CREATED
    assert harness.metrics.auth == [("login_after_signup", result, "none")]
    assert result in caplog.text and "s3cret" not in caplog.text


async def test_failed_signups_and_v0_clients_get_no_login() -> None:
    harness = Harness()
    body = {"username": "ann", "password": "pw"}
    taken = harness.request("POST", SIGNUP, 3, 6, body=body, headers={"Authorization": APP_AUTH})
    response = await harness.run(taken, _backend(signup=error_answer("UserAlreadyExists", 409)))
    assert response.status == 409
    v0 = harness.request("POST", SIGNUP, 0, 6, body=body, headers={"Authorization": APP_AUTH})
    response = await harness.run(v0, _backend())
    assert response.json == CREATED  # v0 had no sessions: its signup never carried a token
    assert [seen.raw_path for seen in harness.seen] == [SIGNUP, SIGNUP]
    assert harness.metrics.auth == []


async def test_a_malformed_signup_body_is_judged_by_the_upstream() -> None:
    harness = Harness()
    request = harness.request("POST", SIGNUP, 3, 6, raw_body=b"{not json", headers={})
    answer = error_answer("JSONParseError", 400)
    response = await harness.run(request, _backend(signup=answer))
    assert response.status == 400 and response.json["error"] == "JSONParseError"


async def test_v6_clients_on_an_older_upstream_get_no_token() -> None:
    harness = Harness()
    request = harness.request("POST", SIGNUP, 6, 5, body={"username": "ann", "password": "p"})
    with_token = json_answer(201, {**CREATED, "_kmd": {"lmt": "t", "authtoken": "tok"}})
    response = await harness.run(request, _backend(signup=with_token))
    assert response.json == CREATED


async def test_end_to_end_against_the_emulator(
    start_gateway_on_emulator: StartGatewayOnEmulator, http_session: aiohttp.ClientSession
) -> None:
    on_v6 = await start_gateway_on_emulator(6)
    on_v5 = await start_gateway_on_emulator(5, versions=(0, 5))
    v3 = AppClient(on_v6.url, 3, session=http_session)
    created = await v3.signup("ann", "pw")
    assert created.status == 201, created.raw
    token = created.json["_kmd"]["authtoken"]
    me = await v3.call("GET", f"/user/{APP_KEY}/_me", auth=f"Kinvey {token}")
    assert me.status == 200 and me.json["username"] == "ann"

    implicit = await v3.call("POST", f"/user/{APP_KEY}", auth=APP_AUTH)
    assert implicit.status == 201, implicit.raw
    assert implicit.json["_kmd"]["authtoken"] and implicit.json["password"]

    mfa = await v3.signup("mo", "pw", mfaRequired=True)
    assert mfa.status == 201 and "authtoken" not in mfa.json["_kmd"]

    v0 = AppClient(on_v6.url, 0, session=http_session)
    plain = await v0.signup("zed", "pw")
    assert plain.status == 201 and "authtoken" not in plain.json["_kmd"]
    me = await v0.call("GET", f"/user/{APP_KEY}/_me", auth=basic("zed", "pw"))
    assert me.status == 200 and me.json["username"] == "zed"

    v6 = AppClient(on_v5.url, 6, session=http_session)
    created = await v6.signup("bea", "pw")
    assert created.status == 201 and "authtoken" not in created.json["_kmd"]


async def test_other_posts_with_credentials_do_not_log_in() -> None:
    entity = {"username": "ann", "password": "pw"}
    await assert_untouched("POST", f"/appdata/{APP_KEY}/people", 5, 6, body=entity, answer=CREATED)


async def test_other_answers_keep_their_token_for_newer_clients() -> None:
    user = {**CREATED, "_kmd": {"authtoken": "kept"}}
    await assert_untouched("POST", f"/rpc/{APP_KEY}/custom/me", 6, 5, body={}, answer=user)


SOCIAL = {"facebook": {"id": "fb-1", "access_token": "tok", "expires": 4102444800}}


@pytest.mark.parametrize("client", [1, 3, 5])
async def test_a_social_signup_logs_in_with_the_same_social_identity(client: int) -> None:
    """Issue 14: no username or password to log in with; Kinvey logged such users in with the
    ``_socialIdentity`` they signed up with, and so does the gateway."""
    harness = Harness()
    social_user = {**CREATED, "username": "generated-name", "_socialIdentity": SOCIAL}
    request = harness.request(
        "POST",
        SIGNUP,
        client,
        6,
        body={"_socialIdentity": SOCIAL},
        headers={"Authorization": APP_AUTH},
    )
    response = await harness.run(
        request, _backend(_wrapped("tok-s"), json_answer(201, social_user))
    )
    assert response.status == 201
    assert response.json["_kmd"]["authtoken"] == "tok-s"
    assert json.loads(harness.seen[1].body or b"") == {"_socialIdentity": SOCIAL}
    assert harness.metrics.auth == [("login_after_signup", "ok", "none")]


async def test_a_social_signup_end_to_end_against_the_emulator(
    start_gateway_on_emulator: StartGatewayOnEmulator, http_session: aiohttp.ClientSession
) -> None:
    on_v6 = await start_gateway_on_emulator(6)
    v4 = AppClient(on_v6.url, 4, session=http_session)
    created = await v4.call("POST", SIGNUP, auth=APP_AUTH, body={"_socialIdentity": SOCIAL})
    assert created.status == 201, created.raw
    token = created.json["_kmd"]["authtoken"]
    me = await v4.call("GET", f"/user/{APP_KEY}/_me", auth=f"Kinvey {token}")
    assert me.status == 200 and me.json["_id"] == created.json["_id"]
