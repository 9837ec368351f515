"""Who is calling: app or master secret (Basic), a user (Basic or session), or nobody.

A request the emulator cannot authenticate gets ``401 InvalidCredentials``; valid credentials
that are not allowed on a route get ``401 InsufficientCredentials``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from gateway.emulator import versions
from gateway.emulator.routing import Call
from gateway.emulator.store import UserRecord
from gateway.kinvey.errors import KinveyError

PrincipalKind = Literal["app", "master", "user"]

APP: frozenset[PrincipalKind] = frozenset({"app", "master"})
USER_OR_MASTER: frozenset[PrincipalKind] = frozenset({"user", "master"})
ANYONE: frozenset[PrincipalKind] = frozenset({"app", "master", "user"})
MASTER: frozenset[PrincipalKind] = frozenset({"master"})
# Data, files and custom endpoints: users, the master secret, and (leniently) the app secret,
# which demo tools and tests use to seed data without creating a user first.
DATA: frozenset[PrincipalKind] = ANYONE


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    user: UserRecord | None = None
    session_token: str | None = None


def invalid_credentials(debug: str) -> KinveyError:
    return KinveyError("InvalidCredentials", debug=debug)


def insufficient_credentials(debug: str = "") -> KinveyError:
    return KinveyError("InsufficientCredentials", debug=debug)


def _same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def decode_basic(value: str) -> tuple[str, str]:
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_credentials("The Basic credentials are not valid base64") from None
    username, colon, password = text.partition(":")
    if not colon:
        raise invalid_credentials("The Basic credentials have no ':'")
    return username, password


def _usable_user(user: UserRecord | None, debug: str) -> UserRecord:
    if user is None:
        raise invalid_credentials(debug)
    if user.disabled:
        raise invalid_credentials("This user is disabled")
    return user


def _from_basic(call: Call, value: str) -> Principal:
    username, password = decode_basic(value)
    config = call.config
    if username == config.app_key:
        if _same_secret(password, config.app_secret):
            return Principal("app")
        if _same_secret(password, config.master_secret):
            return Principal("master")
        raise invalid_credentials("Wrong app secret or master secret")
    if not versions.accepts_user_basic(call.version):
        raise invalid_credentials(
            f"Basic authentication with user credentials is not accepted at API version "
            f"{call.version}; log in and use the session token"
        )
    user = call.store.user_by_username(username)
    if user is not None and not user.password_matches(password):
        user = None
    return Principal("user", _usable_user(user, "Wrong username or password"))


def _from_session(call: Call, token: str) -> Principal:
    if not versions.has_sessions(call.version):
        raise invalid_credentials(f"Sessions do not exist at API version {call.version}")
    user = _usable_user(call.store.session_user(token.strip()), "Unknown or expired session")
    return Principal("user", user, token.strip())


def authenticate(call: Call, allowed: Collection[PrincipalKind]) -> Principal:
    header = call.header("Authorization")
    if not header:
        raise invalid_credentials("The request has no Authorization header")
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        principal = _from_basic(call, value)
    elif scheme == "kinvey":
        principal = _from_session(call, value)
    else:
        raise invalid_credentials(f"Unsupported Authorization scheme {scheme!r}")
    if principal.kind not in allowed:
        raise insufficient_credentials(
            f"{principal.kind} credentials may not be used for this request"
        )
    return principal


def authenticate_mfa(call: Call) -> UserRecord:
    """The user of an ``Authorization: KinveyMFA <mfaSessionToken>`` request."""
    header = call.header("Authorization") or ""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "kinveymfa" or not value.strip():
        raise invalid_credentials("MFA requests need Authorization: KinveyMFA <mfaSessionToken>")
    user = call.store.mfa_session_user(value.strip())
    return _usable_user(user, "Unknown or expired MFA session")


def require_self_or_master(principal: Principal, user_id: str) -> None:
    if principal.kind == "master":
        return
    if principal.user is None or principal.user.user_id != user_id:
        raise insufficient_credentials("Only the user themself or the master secret may do this")
