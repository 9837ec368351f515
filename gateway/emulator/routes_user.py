"""``/user``: signup, login, logout, ``_me``, read/update/delete/restore, user queries."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.emulator import auth, social, versions
from gateway.emulator.listing import listing_of, matching, query_of, run_listing
from gateway.emulator.responses import empty_response, json_response, kinvey_error
from gateway.emulator.routing import Call
from gateway.emulator.store import Document, UserRecord, iso_time, new_id, stamp_metadata
from gateway.emulator.users import (
    authenticators_of,
    ensure_authenticator,
    generated_password,
    generated_username,
    public_user,
    used_recovery_code,
)
from gateway.kinvey.errors import KinveyError

# Fields the server owns; a client's values for them are dropped.
_SERVER_FIELDS = ("_id", "_kmd", "_acl", "password", "username")


def _string_field(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise KinveyError("BadRequest", debug=f"{name} must be a non-empty string")
    return value


def _custom_fields(body: dict[str, Any]) -> Document:
    return {key: value for key, value in body.items() if key not in _SERVER_FIELDS}


async def signup(call: Call) -> web.StreamResponse:
    auth.authenticate(call, auth.APP)
    body = await call.json_object(empty_ok=True)
    identity = social.checked_identity(body, call.version)
    username = _string_field(body, "username") or generated_username()
    password = _string_field(body, "password")
    clear_password = None
    if password is None and identity is None:
        # An implicit user: the server picks the password and shows it once.
        password = clear_password = generated_password()
    if call.store.user_by_username(username) is not None:
        raise KinveyError("UserAlreadyExists")
    if identity is not None and social.user_with_identity(call.store, identity) is not None:
        raise KinveyError("UserAlreadyExists", debug="A user with this social identity exists")
    password = password or generated_password()  # a social user never logs in with it
    user_id = new_id()
    doc: Document = {"_id": user_id, "username": username, **_custom_fields(body)}
    record = call.store.add_user(stamp_metadata(doc, user_id, None), password)
    ensure_authenticator(record)
    token = None
    if versions.signup_returns_token(call.version):
        token = call.store.new_session(user_id)
    result = public_user(record, authtoken=token)
    if clear_password is not None:
        result["password"] = clear_password
    return json_response(result, status=201)


def _check_password_login(call: Call, body: dict[str, Any]) -> UserRecord:
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise kinvey_error("IncompleteRequestBody", "Login needs a username and a password")
    user = call.store.user_by_username(username)
    if user is None or not user.password_matches(password):
        raise auth.invalid_credentials("Wrong username or password")
    if user.disabled:
        raise auth.invalid_credentials("This user is disabled")
    return user


def _check_social_login(call: Call, identity: dict[str, Any]) -> UserRecord:
    user = social.user_with_identity(call.store, identity)
    if user is None:
        raise KinveyError("UserNotFound", debug="No user has this social identity")
    if user.disabled:
        raise auth.invalid_credentials("This user is disabled")
    return user


async def login(call: Call) -> web.StreamResponse:
    if not versions.has_sessions(call.version):
        raise versions.feature_unavailable(
            "Session login does not exist at API version 0; use Basic user credentials"
        )
    auth.authenticate(call, auth.APP)
    body = await call.json_object()
    identity = social.checked_identity(body, call.version)
    if identity is None:
        user = _check_password_login(call, body)
    else:
        user = _check_social_login(call, identity)
    trusted_device = body.get("deviceToken") in user.device_tokens
    if (
        versions.has_mfa(call.version)
        and user.mfa_required
        and not trusted_device
        and not used_recovery_code(user, body.get("recoveryCode"))
    ):
        ensure_authenticator(user)
        return json_response(
            {
                "mfaRequired": True,
                "mfaSessionToken": call.store.new_mfa_session(user.user_id),
                "userId": user.user_id,
                "authenticators": authenticators_of(user),
            }
        )
    token = call.store.new_session(user.user_id)
    if versions.wraps_login(call.version):
        return json_response({"mfaRequired": False, "user": public_user(user), "authToken": token})
    return json_response(public_user(user, authtoken=token))


async def logout(call: Call) -> web.StreamResponse:
    if not versions.has_sessions(call.version):
        raise versions.feature_unavailable("Sessions do not exist at API version 0")
    principal = auth.authenticate(call, {"user"})
    if principal.session_token is not None:
        call.store.sessions.pop(principal.session_token, None)
    return empty_response(204)


async def me(call: Call) -> web.StreamResponse:
    principal = auth.authenticate(call, {"user"})
    assert principal.user is not None
    return json_response(public_user(principal.user, authtoken=principal.session_token))


def _existing_user(call: Call, principal: auth.Principal) -> UserRecord:
    record = call.store.users.get(call.params["id"])
    if record is None or (record.disabled and principal.kind != "master"):
        raise KinveyError("UserNotFound")
    return record


async def read_user(call: Call) -> web.StreamResponse:
    principal = auth.authenticate(call, auth.USER_OR_MASTER)
    record = _existing_user(call, principal)
    return json_response(public_user(record, show_status=principal.kind == "master"))


async def update_user(call: Call) -> web.StreamResponse:
    principal = auth.authenticate(call, auth.USER_OR_MASTER)
    auth.require_self_or_master(principal, call.params["id"])
    record = _existing_user(call, principal)
    body = await call.json_object()
    username = _string_field(body, "username") or record.username
    holder = call.store.user_by_username(username)
    if holder is not None and holder is not record:
        raise KinveyError("UserAlreadyExists")
    password = _string_field(body, "password")
    if password is not None:
        record.set_password(password)
    doc: Document = {"_id": record.user_id, "username": username, **_custom_fields(body)}
    record.doc = stamp_metadata(doc, record.user_id, record.doc)
    ensure_authenticator(record)
    own_session = principal.session_token if principal.user is record else None
    return json_response(public_user(record, authtoken=own_session))


async def delete_user(call: Call) -> web.StreamResponse:
    principal = auth.authenticate(call, auth.USER_OR_MASTER)
    auth.require_self_or_master(principal, call.params["id"])
    record = _existing_user(call, principal)
    soft, hard = versions.is_true_flag(call.arg("soft")), versions.is_true_flag(call.arg("hard"))
    if versions.user_delete_mode(call.version, soft, hard) == "hard":
        call.store.remove_user(record.user_id)
    else:
        record.disabled, record.disabled_at = True, iso_time()
        call.store.drop_sessions(record.user_id)
    return empty_response(204)


async def restore_user(call: Call) -> web.StreamResponse:
    auth.authenticate(call, auth.MASTER)
    record = call.store.users.get(call.params["id"])
    if record is None:
        raise KinveyError("UserNotFound")
    record.disabled, record.disabled_at = False, ""
    return empty_response(204)


def _visible_users(call: Call) -> list[Document]:
    """Users as the caller may list them: disabled ones only for the master secret."""
    principal = auth.authenticate(call, auth.USER_OR_MASTER)
    master = principal.kind == "master"
    return [
        public_user(record, show_status=master)
        for record in call.store.users.values()
        if master or not record.disabled
    ]


async def find_users(call: Call) -> web.StreamResponse:
    visible = _visible_users(call)
    return json_response(
        run_listing(visible, listing_of(call), call.version, call.config.result_set_limit)
    )


async def count_users(call: Call) -> web.StreamResponse:
    visible = _visible_users(call)
    return json_response({"count": len(matching(visible, query_of(call)))})
