"""v6 login answer: unwrapped for older clients, wrapped for v6 clients on an older upstream."""

from __future__ import annotations

import aiohttp
import pytest

from gateway.changes import BUNDLE
from gateway.versioning import RequestInfo, ResponseInfo
from tests.changes.support import (
    AppClient,
    Harness,
    StartGatewayOnEmulator,
    assert_untouched,
    error_answer,
    json_answer,
)
from tests.conftest import APP_KEY

LOGIN = f"/user/{APP_KEY}/login"
USER = {"_id": "u1", "username": "ann", "_kmd": {"lmt": "2024-01-01T00:00:00.000Z"}}


async def _login_through(
    harness: Harness, client: int, upstream: int, answer: ResponseInfo
) -> ResponseInfo:
    async def upstream_login(request: RequestInfo) -> ResponseInfo:
        return answer

    request = harness.request("POST", LOGIN, client, upstream, body={"username": "ann"})
    return await harness.run(request, upstream_login)


async def test_older_clients_get_the_wrapped_answer_as_the_bare_user_with_its_token() -> None:
    wrapped = {"mfaRequired": False, "user": USER, "authToken": "tok-1"}
    response = await _login_through(Harness(), 5, 6, json_answer(200, wrapped))
    assert response.status == 200
    assert response.json == {
        **USER,
        "_kmd": {"lmt": "2024-01-01T00:00:00.000Z", "authtoken": "tok-1"},
    }


async def test_a_bare_user_passes_byte_for_byte() -> None:
    bare = {**USER, "_kmd": {"authtoken": "tok-2"}}
    answer = json_answer(200, bare)
    original = answer.body
    response = await _login_through(Harness(), 3, 6, answer)
    assert response.body == original


async def test_an_mfa_login_is_refused_for_clients_that_cannot_finish_it() -> None:
    mfa = {"mfaRequired": True, "mfaSessionToken": "m", "userId": "u1", "authenticators": []}
    response = await _login_through(Harness(), 5, 6, json_answer(200, mfa))
    assert response.status == 401
    body = response.json
    assert body["error"] == "InvalidCredentials"
    assert "multi-factor authentication" in body["description"]
    assert "m" not in body.values()


async def test_login_errors_pass_untouched_both_ways() -> None:
    for client, upstream in ((5, 6), (6, 5)):
        answer = error_answer("InvalidCredentials", 401)
        original = answer.body
        response = await _login_through(Harness(), client, upstream, answer)
        assert response.status == 401 and response.body == original


async def test_v6_clients_on_an_older_upstream_get_the_wrapped_shape() -> None:
    bare = {**USER, "_kmd": {"lmt": "x", "authtoken": "tok-3"}}
    response = await _login_through(Harness(), 6, 5, json_answer(200, bare))
    assert response.json == {
        "mfaRequired": False,
        "user": {**USER, "_kmd": {"lmt": "x"}},
        "authToken": "tok-3",
    }


async def test_a_login_answer_without_a_token_is_a_gateway_error_not_a_crash() -> None:
    response = await _login_through(Harness(), 6, 5, json_answer(200, {"_id": "u1"}))
    assert response.status == 502
    assert response.json["error"] == "KinveyInternalErrorRetry"


def test_same_version_is_a_plain_proxy() -> None:
    assert BUNDLE.plan(6, 6, "POST", "user.login").is_passthrough


async def test_end_to_end_against_the_emulator(
    start_gateway_on_emulator: StartGatewayOnEmulator, http_session: aiohttp.ClientSession
) -> None:
    on_v6 = await start_gateway_on_emulator(6)
    on_v5 = await start_gateway_on_emulator(5, versions=(0, 5))
    old = AppClient(on_v6.url, 5, session=http_session)
    assert (await old.signup("ann", "pw")).status == 201
    assert (await old.signup("mo", "pw", mfaRequired=True)).status == 201
    login = await old.login("ann", "pw")
    assert login.status == 200, login.raw
    token = login.json["_kmd"]["authtoken"]
    assert login.json["username"] == "ann" and "mfaRequired" not in login.json
    me = await old.call("GET", f"/user/{APP_KEY}/_me", auth=f"Kinvey {token}")
    assert me.status == 200 and me.json["username"] == "ann"
    refused = await old.login("mo", "pw")
    assert refused.status == 401
    assert "multi-factor" in refused.json["description"]

    new = AppClient(on_v5.url, 6, session=http_session)
    assert (await new.signup("bea", "pw")).status == 201
    wrapped = await new.login("bea", "pw")
    assert wrapped.status == 200, wrapped.raw
    assert wrapped.json["mfaRequired"] is False
    assert "authtoken" not in wrapped.json["user"]["_kmd"]
    me = await new.call("GET", f"/user/{APP_KEY}/_me", auth=f"Kinvey {wrapped.json['authToken']}")
    assert me.status == 200 and me.json["username"] == "bea"


@pytest.mark.parametrize(("client", "pin"), [(5, 6), (6, 5)])
async def test_other_answers_are_neither_unwrapped_nor_wrapped(client: int, pin: int) -> None:
    """A custom endpoint may answer either shape; only the login answer is translated."""
    bare = {**USER, "_kmd": {"authtoken": "t"}}
    answer = {"mfaRequired": False, "user": USER, "authToken": "t"} if pin == 6 else bare
    path = f"/rpc/{APP_KEY}/custom/login"
    await assert_untouched("POST", path, client, pin, body={}, answer=answer)
