"""User discovery and the user RPCs: ``_lookup``, password reset, email verification, forgotten
username and the username check (Kinvey's REST users guide, devcenter.kinvey.com/rest/guides/users).

- ``POST /user/:appKey/_lookup`` (user credentials), body a query such as ``{"city": "Oslo"}``:
  the users that match (never disabled ones); an empty body is ``400 IncompleteRequestBody``.
- ``POST /rpc/:appKey/:username/user-password-reset-initiate`` and
  ``…/user-email-verification-initiate``, ``POST /rpc/:appKey/user-forgot-username``
  (``{"email"}``): app credentials, ``204``; the emulator "sends" each email to
  ``store.outbox``. A password reset of an unknown user is a quiet ``204`` too (no account
  probing); an email verification needs a user with an ``email`` (else ``404 UserNotFound`` /
  ``400 BadRequest``).
- ``POST /rpc/:appKey/check-username-exists`` (``{"username"}``), app credentials:
  ``200 {"usernameExists": bool}``.
"""

from __future__ import annotations

from aiohttp import web

from gateway.emulator import auth
from gateway.emulator.listing import matching
from gateway.emulator.responses import empty_response, json_response, kinvey_error
from gateway.emulator.routing import Call
from gateway.emulator.store import UserRecord
from gateway.emulator.users import public_user
from gateway.kinvey.errors import KinveyError


async def lookup_users(call: Call) -> web.StreamResponse:
    auth.authenticate(call, auth.USER_OR_MASTER)
    query = await call.json_object(empty_ok=True)
    if not query:
        raise kinvey_error("IncompleteRequestBody", "_lookup needs a query object as its body")
    enabled = [public_user(record) for record in call.store.users.values() if not record.disabled]
    return json_response(matching(enabled, query))


def _user_named(call: Call, name: str) -> UserRecord | None:
    """A user by username or, as Kinvey's password reset allows, by email."""
    found = call.store.user_by_username(name)
    if found is not None:
        return found
    for record in call.store.users.values():
        if record.doc.get("email") == name:
            return record
    return None


def _send(call: Call, kind: str, record: UserRecord) -> None:
    call.store.outbox.append({"kind": kind, "userId": record.user_id})


async def password_reset(call: Call) -> web.StreamResponse:
    auth.authenticate(call, auth.APP)
    record = _user_named(call, call.params["username"])
    if record is not None:
        _send(call, "password-reset", record)
    return empty_response(204)


async def email_verification(call: Call) -> web.StreamResponse:
    auth.authenticate(call, auth.APP)
    record = call.store.user_by_username(call.params["username"])
    if record is None:
        raise KinveyError("UserNotFound")
    if not isinstance(record.doc.get("email"), str):
        raise KinveyError("BadRequest", debug="This user has no email address to verify")
    _send(call, "email-verification", record)
    return empty_response(204)


async def _required_string(call: Call, name: str) -> str:
    body = await call.json_object(empty_ok=True)
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise kinvey_error("IncompleteRequestBody", f"The body needs a {name!r} string")
    return value


async def forgot_username(call: Call) -> web.StreamResponse:
    auth.authenticate(call, auth.APP)
    email = await _required_string(call, "email")
    for record in call.store.users.values():
        if record.doc.get("email") == email:
            _send(call, "forgot-username", record)
    return empty_response(204)


async def check_username(call: Call) -> web.StreamResponse:
    auth.authenticate(call, auth.APP)
    username = await _required_string(call, "username")
    return json_response({"usernameExists": call.store.user_by_username(username) is not None})
