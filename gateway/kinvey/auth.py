"""Basic credentials and Kinvey login answers.

API v6 refuses ``Authorization: Basic base64(username:password)`` with user credentials, so
the gateway logs old clients in once and sends their calls with ``Kinvey <token>``; the
sessions it gets are kept by ``session_cache.TokenCache``. Pure.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal

LoginResult = Literal["ok", "invalid_credentials", "mfa_required", "error"]


class AuthExchanges:
    """Where a version change reports a login it made (or could not make) for a client.

    ``record(kind, result, cache)`` is given by whoever builds the services (the app counts
    them as ``kgw_auth_exchanges_total``); the changes only say what happened.
    """

    def __init__(self, record: Callable[[str, str, str], None]) -> None:
        self.record = record


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    username: str
    password: str = field(repr=False)


def split_authorization(header: str | None) -> tuple[str, str]:
    """``(scheme in lower case, credentials)``; empty strings when there is no header."""
    scheme, _, value = (header or "").strip().partition(" ")
    return scheme.lower(), value.strip()


def parse_basic(header: str | None) -> BasicCredentials | None:
    """The username and password of a Basic header; None when it is not a valid one."""
    scheme, value = split_authorization(header)
    if scheme != "basic" or not value:
        return None
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = text.partition(":")
    if not colon or not username:
        return None
    return BasicCredentials(username, password)


# Kinvey app keys start with this; no end user's username is taken for one (issue 14).
APP_KEY_PREFIX = "kid_"


def is_app_key(name: str, known_app_keys: Collection[str] = ()) -> bool:
    """Whether ``name`` names an app (one the gateway knows, or shaped like a Kinvey app key)."""
    return name.startswith(APP_KEY_PREFIX) or name in known_app_keys


def user_basic(
    header: str | None, app_key: str | None, known_app_keys: Collection[str] = ()
) -> BasicCredentials | None:
    """Basic credentials of an end user: not an app's key with its app or master secret.

    App credentials on a path that names another or an unknown app are still app credentials:
    the upstream answers them (``404 AppNotFound``, a disabled app, a wrong secret), never a
    user login made on the client's behalf.
    """
    if app_key is None:
        return None
    credentials = parse_basic(header)
    if credentials is None or credentials.username == app_key:
        return None
    if is_app_key(credentials.username, known_app_keys):
        return None
    return credentials


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def requires_mfa(login_answer: Any) -> bool:
    """A v6 login answer that asks for a second factor instead of giving a session."""
    return isinstance(login_answer, dict) and login_answer.get("mfaRequired") is True


def session_token_of(login_answer: Any) -> str | None:
    """The session token of a login answer: v6 wrapped (``authToken``) or a bare user."""
    if not isinstance(login_answer, dict):
        return None
    token = login_answer.get("authToken")
    if isinstance(token, str) and token:
        return token
    user = login_answer.get("user", login_answer)
    kmd = user.get("_kmd") if isinstance(user, dict) else None
    token = kmd.get("authtoken") if isinstance(kmd, dict) else None
    return token if isinstance(token, str) and token else None


def user_id_of(login_answer: Any) -> str | None:
    """The ``_id`` of the user a login answer is for: v6 wrapped or a bare user document."""
    if not isinstance(login_answer, dict):
        return None
    user = login_answer.get("user", login_answer)
    user_id = user.get("_id") if isinstance(user, dict) else None
    return user_id if isinstance(user_id, str) and user_id else None


def with_authtoken(user: dict[str, Any], token: str) -> dict[str, Any]:
    """A copy of a user document whose ``_kmd.authtoken`` is ``token``."""
    kmd = user.get("_kmd")
    return {**user, "_kmd": {**(kmd if isinstance(kmd, dict) else {}), "authtoken": token}}


def without_authtoken(user: dict[str, Any]) -> dict[str, Any]:
    """A copy of a user document without ``_kmd.authtoken`` (the same object if it has none)."""
    kmd = user.get("_kmd")
    if not isinstance(kmd, dict) or "authtoken" not in kmd:
        return user
    return {**user, "_kmd": {k: v for k, v in kmd.items() if k != "authtoken"}}


@dataclass(frozen=True, slots=True)
class LoginAnswer:
    """The outcome of one upstream login, shareable between the requests that waited for it.

    A failure keeps the upstream's answer as bytes (each waiter builds its own response from
    it, since responses are rewritten per client version on their way out).
    """

    result: LoginResult
    token: str | None = field(default=None, repr=False)
    user_id: str | None = None  # whose session it is: password changes end it by user id
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = field(default=b"", repr=False)
