"""Multi-factor authentication (API v6 only; older versions answer ``400 FeatureUnavailable``).

Login of an account with ``"mfaRequired": true`` answers ``{"mfaRequired": true,
"mfaSessionToken", "userId", "authenticators"}``; the client then POSTs ``mfa/challenge`` and
``mfa/complete`` with ``Authorization: KinveyMFA <mfaSessionToken>``. The code ``123456``
completes the login with the v6 wrapped login answer. ``GET|POST /user/:appKey/:id/recovery-codes``
list and regenerate the account's one-time recovery codes; a login body carrying one of them
(``recoveryCode``) logs an MFA account in without a challenge and uses that code up.
"""

from __future__ import annotations

from aiohttp import web

from gateway.emulator import auth, versions
from gateway.emulator.responses import json_response
from gateway.emulator.routing import Call
from gateway.emulator.store import new_id, new_token
from gateway.emulator.users import (
    MFA_CODE,
    authenticators_of,
    new_authenticator,
    new_recovery_codes,
    public_user,
)
from gateway.kinvey.errors import KinveyError


def _require_mfa_version(call: Call) -> None:
    if not versions.has_mfa(call.version):
        raise versions.feature_unavailable(
            f"Multi-factor authentication is not available at API version {call.version}"
        )


async def challenge(call: Call) -> web.StreamResponse:
    _require_mfa_version(call)
    user = auth.authenticate_mfa(call)
    body = await call.json_object()
    authenticator_id = body.get("authenticatorId")
    if not any(a["id"] == authenticator_id for a in user.authenticators):
        raise KinveyError("BadRequest", debug="Unknown authenticatorId for this user")
    return json_response({"challengeId": new_id(), "authenticatorId": authenticator_id})


async def complete(call: Call) -> web.StreamResponse:
    _require_mfa_version(call)
    user = auth.authenticate_mfa(call)
    body = await call.json_object()
    if body.get("code") != MFA_CODE:
        # The MFA session survives a wrong code: the v6 SDK retries with the same session.
        raise auth.invalid_credentials("The MFA code is wrong")
    header = call.header("Authorization") or ""
    call.store.mfa_sessions.pop(header.strip().partition(" ")[2].strip(), None)
    result = {
        "mfaRequired": False,
        "user": public_user(user),
        "authToken": call.store.new_session(user.user_id),
    }
    if body.get("createDeviceToken") is True:
        device_token = new_token()
        user.device_tokens.add(device_token)
        result["deviceToken"] = device_token
    return json_response(result)


def _account(call: Call) -> auth.Principal:
    principal = auth.authenticate(call, auth.USER_OR_MASTER)
    auth.require_self_or_master(principal, call.params["id"])
    if call.params["id"] not in call.store.users:
        raise KinveyError("UserNotFound")
    return principal


async def list_authenticators(call: Call) -> web.StreamResponse:
    _require_mfa_version(call)
    _account(call)
    return json_response(authenticators_of(call.store.users[call.params["id"]]))


async def add_authenticator(call: Call) -> web.StreamResponse:
    _require_mfa_version(call)
    _account(call)
    body = await call.json_object()
    kind, name = body.get("type", "totp"), body.get("name", "Authenticator")
    if not isinstance(kind, str) or not isinstance(name, str):
        raise KinveyError("BadRequest", debug="type and name must be strings")
    authenticator = new_authenticator(kind, name)
    call.store.users[call.params["id"]].authenticators.append(authenticator)
    return json_response(authenticator, status=201)


async def list_recovery_codes(call: Call) -> web.StreamResponse:
    _require_mfa_version(call)
    _account(call)
    record = call.store.users[call.params["id"]]
    if not record.recovery_codes:
        record.recovery_codes = new_recovery_codes()
    return json_response({"recoveryCodes": list(record.recovery_codes)})


async def regenerate_recovery_codes(call: Call) -> web.StreamResponse:
    _require_mfa_version(call)
    _account(call)
    record = call.store.users[call.params["id"]]
    record.recovery_codes = new_recovery_codes()
    return json_response({"recoveryCodes": list(record.recovery_codes)})
