"""The wider app surface: entity ``_acl``, ``_group``, ``_deltaset``, ``_lookup``, user RPCs,
push registration and HEAD (Kinvey's REST guides; what the emulator decides where they are
silent is in each route module's docstring)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.emulator.app import STORE_KEY
from gateway.emulator.grouping import GroupSyntaxError, group
from gateway.emulator.store import ChangeClock, parse_iso_time
from tests.emulator.emulator_helpers import Api


async def _two_users(api: Api) -> tuple[str, str, str]:
    """Sessions of an owner and another user, and the other user's id."""
    owner = await api.session(6, "owner")
    other_user = await api.signup(6, "other")
    other = "Kinvey " + await api.login_token(6, "other")
    return owner, other, str(other_user["_id"])


async def test_shared_collection_acl_private_and_granted_entities(api: Api) -> None:
    owner, other, other_id = await _two_users(api)
    coll = f"/appdata/{api.key}/notes"
    await api.call("PUT", f"{coll}/open", version=6, auth=owner, body={"n": 1})
    private = {"n": 2, "_acl": {"gr": False}}
    await api.call("PUT", f"{coll}/private", version=6, auth=owner, body=private)
    granted = {"n": 3, "_acl": {"gr": False, "r": [other_id]}}
    await api.call("PUT", f"{coll}/granted", version=6, auth=owner, body=granted)
    shared = {"n": 4, "_acl": {"gw": True}}
    await api.call("PUT", f"{coll}/writable", version=6, auth=owner, body=shared)

    listed = await api.call("GET", coll, version=6, auth=other)
    assert sorted(doc["_id"] for doc in listed.json) == ["granted", "open", "writable"]
    count = await api.call("GET", f"{coll}/_count", version=6, auth=other)
    assert count.json == {"count": 3}
    hidden = await api.call("GET", f"{coll}/private", version=6, auth=other)
    assert hidden.status == 401 and hidden.error == "InsufficientCredentials"
    assert (await api.call("GET", f"{coll}/private", version=6, auth=owner)).status == 200
    assert (await api.call("GET", f"{coll}/private", version=6, auth=api.master_auth)).status == 200

    change = await api.call("PUT", f"{coll}/open", version=6, auth=other, body={"n": 9})
    assert change.status == 401 and change.error == "InsufficientCredentials"
    removal = await api.call("DELETE", f"{coll}/granted", version=6, auth=other)
    assert removal.status == 401
    changed = await api.call(
        "PUT", f"{coll}/writable", version=6, auth=other, body={**shared, "n": 5}
    )
    assert changed.status == 200 and changed.json["_acl"]["creator"] != other_id
    by_query = await api.call(
        "DELETE", coll, version=6, auth=other, params={"query": json.dumps({"n": {"$gte": 1}})}
    )
    assert by_query.json == {"count": 1}  # only the globally writable entity
    assert (await api.call("GET", f"{coll}/_count", version=6, auth=owner)).json == {"count": 3}


async def test_group_counts_sums_and_extremes_per_key(api: Api) -> None:
    token = await api.session(3, "grouper")
    coll = f"/appdata/{api.key}/sales"
    rows = [("oslo", 3), ("rome", 5), ("oslo", 4), ("rome", "n/a"), (None, 1)]
    for index, (city, amount) in enumerate(rows):
        doc: dict[str, Any] = (
            {"amount": amount} if city is None else {"city": city, "amount": amount}
        )
        await api.call("PUT", f"{coll}/s{index}", version=3, auth=token, body=doc)
    reduce = (
        "function(doc, out) { out.count++; out.sum += doc.amount; "
        'out.max = Math.max(out.max, doc["amount"]); return out; }'
    )
    body = {"key": {"city": True}, "initial": {"count": 0, "sum": 0, "max": None}, "reduce": reduce}
    reply = await api.call("POST", f"{coll}/_group", version=3, auth=token, body=body)
    assert reply.status == 200
    assert reply.json == [
        {"city": "oslo", "count": 2, "sum": 7, "max": 4},
        {"city": "rome", "count": 2, "sum": 5, "max": 5},
        {"city": None, "count": 1, "sum": 1, "max": 1},
    ]
    body["condition"] = {"amount": {"$gt": 3}}
    filtered = await api.call("POST", f"{coll}/_group", version=3, auth=token, body=body)
    assert [row["count"] for row in filtered.json] == [1, 1]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"key": {"a": True}, "initial": {}, "reduce": "function(d, o) { eval(1); }"},
            "BadRequest",
        ),
        ({"key": {"a": True}, "initial": {}, "reduce": 3}, "BadRequest"),
        ({"key": ["a"], "initial": {}, "reduce": "function(d, o) {}"}, "BadRequest"),
        (
            {"key": {}, "initial": {}, "reduce": "function(d, o) {}", "condition": {"$x": 1}},
            "InvalidQuerySyntax",
        ),
    ],
)
async def test_group_refuses_what_it_cannot_run(api: Api, body: Any, error: str) -> None:
    reply = await api.call(
        "POST", f"/appdata/{api.key}/c/_group", version=2, auth=api.master_auth, body=body
    )
    assert reply.status == 400 and reply.error == error


def test_group_average_as_the_sdks_write_it() -> None:
    reduce = (
        'function(doc, out) { out.average = (out.average * out.count + doc["v"]) / '
        "(out.count + 1); out.count += 1; return out; }"
    )
    docs = [{"v": 2}, {"v": 4}, {"v": 9}]
    assert group(docs, {}, {"count": 0, "average": 0}, reduce) == [{"count": 3, "average": 5}]
    with pytest.raises(GroupSyntaxError):
        group(docs, {}, {}, "out.count++")


async def test_deltaset_lists_changes_and_deletions_since_the_last_read(api: Api) -> None:
    token = await api.session(5, "syncer")
    coll = f"/appdata/{api.key}/items"
    for name in ("a", "b", "c"):
        await api.call("PUT", f"{coll}/{name}", version=5, auth=token, body={"n": 1})
    first = await api.call("GET", coll, version=5, auth=token)
    since = first.headers["X-Kinvey-Request-Start"]
    await api.call("PUT", f"{coll}/a", version=5, auth=token, body={"n": 2})
    await api.call("PUT", f"{coll}/d", version=5, auth=token, body={"n": 3})
    await api.call("DELETE", f"{coll}/b", version=5, auth=token)
    delta = await api.call(
        "GET", f"{coll}/_deltaset", version=5, auth=token, params={"since": since}
    )
    assert delta.status == 200
    assert sorted(doc["_id"] for doc in delta.json["changed"]) == ["a", "d"]
    assert delta.json["deleted"] == [{"_id": "b"}]
    queried = await api.call(
        "GET",
        f"{coll}/_deltaset",
        version=5,
        auth=token,
        params={"since": since, "query": json.dumps({"n": 3})},
    )
    assert [doc["_id"] for doc in queried.json["changed"]] == ["d"]
    later = delta.headers["X-Kinvey-Request-Start"]
    quiet = await api.call(
        "GET", f"{coll}/_deltaset", version=5, auth=token, params={"since": later}
    )
    assert quiet.json == {"changed": [], "deleted": []}


@pytest.mark.parametrize(
    ("params", "error"),
    [({}, "MissingRequestParameter"), ({"since": "yesterday"}, "ParameterValueOutOfRange")],
)
async def test_deltaset_needs_a_valid_since(api: Api, params: dict[str, str], error: str) -> None:
    reply = await api.call(
        "GET", f"/appdata/{api.key}/c/_deltaset", version=0, auth=api.master_auth, params=params
    )
    assert reply.status == 400 and set(reply.json) == {"error"}  # v0 shape
    structured = await api.call(
        "GET", f"/appdata/{api.key}/c/_deltaset", version=1, auth=api.master_auth, params=params
    )
    assert structured.error == error


async def test_lookup_finds_enabled_users_by_query(api: Api) -> None:
    token = await api.session(6, "finder")
    await api.signup(6, "oslo-1", city="Oslo")
    gone = await api.signup(6, "oslo-2", city="Oslo")
    await api.call("DELETE", f"/user/{api.key}/{gone['_id']}", version=6, auth=api.master_auth)
    found = await api.call(
        "POST", f"/user/{api.key}/_lookup", version=6, auth=token, body={"city": "Oslo"}
    )
    assert [user["username"] for user in found.json] == ["oslo-1"]
    assert "password" not in found.json[0]
    empty = await api.call("POST", f"/user/{api.key}/_lookup", version=6, auth=token, body={})
    assert empty.status == 400 and empty.error == "IncompleteRequestBody"
    app = await api.call("POST", f"/user/{api.key}/_lookup", version=6, auth=api.app_auth, body={})
    assert app.status == 401 and app.error == "InsufficientCredentials"


async def test_user_rpcs_send_emails_and_check_usernames(api: Api) -> None:
    user = await api.signup(4, "mailer", email="m@example.com")
    await api.signup(4, "no-mail")
    rpc = f"/rpc/{api.key}"
    for path in ("mailer/user-password-reset-initiate", "ghost/user-password-reset-initiate"):
        reply = await api.call("POST", f"{rpc}/{path}", version=4, auth=api.app_auth)
        assert reply.status == 204 and reply.raw == b""
    verify = await api.call(
        "POST", f"{rpc}/mailer/user-email-verification-initiate", version=4, auth=api.app_auth
    )
    assert verify.status == 204
    no_mail = await api.call(
        "POST", f"{rpc}/no-mail/user-email-verification-initiate", version=4, auth=api.app_auth
    )
    assert no_mail.status == 400 and no_mail.error == "BadRequest"
    forgot = await api.call(
        "POST",
        f"{rpc}/user-forgot-username",
        version=4,
        auth=api.app_auth,
        body={"email": "m@example.com"},
    )
    assert forgot.status == 204
    outbox = api.client.app[STORE_KEY].outbox
    kinds = [(mail["kind"], mail["userId"]) for mail in outbox]
    assert kinds == [
        ("password-reset", user["_id"]),
        ("email-verification", user["_id"]),
        ("forgot-username", user["_id"]),
    ]
    for name, exists in (("mailer", True), ("nobody", False)):
        check = await api.call(
            "POST",
            f"{rpc}/check-username-exists",
            version=4,
            auth=api.app_auth,
            body={"username": name},
        )
        assert check.json == {"usernameExists": exists}
    missing = await api.call(
        "POST", f"{rpc}/check-username-exists", version=4, auth=api.app_auth, body={}
    )
    assert missing.status == 400 and missing.error == "IncompleteRequestBody"


async def test_push_register_and_unregister(api: Api) -> None:
    token = await api.session(3, "pusher")
    push = f"/push/{api.key}"
    device = {"platform": "ios", "deviceId": "tok-1"}
    reply = await api.call("POST", f"{push}/register-device", version=3, auth=token, body=device)
    assert reply.status == 204
    devices = api.client.app[STORE_KEY].push_devices
    assert list(devices.values()) == [{("ios", "tok-1")}]
    gone = await api.call("POST", f"{push}/unregister-device", version=3, auth=token, body=device)
    assert gone.status == 204 and list(devices.values()) == [set()]
    bad = {"platform": "symbian", "deviceId": "x"}
    refused = await api.call("POST", f"{push}/register-device", version=3, auth=token, body=bad)
    assert refused.status == 400 and refused.error == "BadRequest"
    empty = await api.call("POST", f"{push}/register-device", version=3, auth=token, body={})
    assert empty.error == "IncompleteRequestBody"


async def test_head_is_a_get_without_the_body(api: Api) -> None:
    token = await api.session(2, "header")
    await api.call("PUT", f"/appdata/{api.key}/c/e1", version=2, auth=token, body={"n": 1})
    head = await api.call("HEAD", f"/appdata/{api.key}/c/e1", version=2, auth=token)
    get = await api.call("GET", f"/appdata/{api.key}/c/e1", version=2, auth=token)
    assert head.status == 200 and head.raw == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"] != "0"
    missing = await api.call("HEAD", f"/appdata/{api.key}/c/none", version=2, auth=token)
    assert missing.status == 404 and missing.raw == b""


def test_change_times_never_repeat_and_parse_back() -> None:
    clock = ChangeClock()
    times = [clock.tick() for _ in range(50)]  # far more than one per millisecond
    parsed = [parse_iso_time(text) or 0.0 for text in times]
    assert parsed == sorted(set(parsed)) and parsed[0] > 0
    assert parse_iso_time("yesterday") is None
    assert parse_iso_time("2020-01-01T00:00:00") is None  # no zone: not a Kinvey time
