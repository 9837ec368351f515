"""v6: the login answer is wrapped, and may ask for a second factor."""

from __future__ import annotations

from typing import Any

from gateway.changes.upstream_login import mfa_refusal
from gateway.kinvey.auth import requires_mfa, with_authtoken, without_authtoken
from gateway.kinvey.errors import KinveyError
from gateway.versioning import ResponseInfo, VersionChange, newer, older


class LoginResponseIsWrappedWithMfaStatus(VersionChange):
    """Login answers {mfaRequired, user, authToken} instead of the bare user

    From v6, `POST /user/:appKey/login` may answer `{"mfaRequired": false, "user": {…},
    "authToken": "…"}` instead of the user with `_kmd.authtoken`, and for an account that
    requires multi-factor authentication `{"mfaRequired": true, "mfaSessionToken", "userId",
    "authenticators"}`. Older clients get the bare user with `_kmd.authtoken` set (a bare user
    passes unchanged); an MFA login, which they cannot finish, gets `401 InvalidCredentials`
    saying that the account requires multi-factor authentication. A v6 client on an older
    upstream gets the bare user wrapped as `{mfaRequired: false, user, authToken}`, the token
    moved out of the user; errors pass as they are.
    """

    introduced_in = 6

    @older.response("POST", routes={"user.login"})
    @staticmethod
    def unwrap_login_answer(response: ResponseInfo) -> None:
        answer = response.json
        if requires_mfa(answer):
            raise mfa_refusal()
        if not _is_wrapped(answer):
            return  # already the bare user
        user = answer["user"]
        if not isinstance(user, dict) or not isinstance(answer.get("authToken"), str):
            raise _malformed("a wrapped login answer without user or authToken")
        response.json = with_authtoken(user, answer["authToken"])

    @newer.response("POST", routes={"user.login"})
    @staticmethod
    def wrap_login_answer(response: ResponseInfo) -> None:
        user = response.json
        if not isinstance(user, dict) or _is_wrapped(user):
            return
        kmd = user.get("_kmd")
        token = kmd.get("authtoken") if isinstance(kmd, dict) else None
        if not isinstance(kmd, dict) or not isinstance(token, str):
            raise _malformed("a login answer without _kmd.authtoken")
        response.json = {"mfaRequired": False, "user": without_authtoken(user), "authToken": token}


def _is_wrapped(answer: Any) -> bool:
    return isinstance(answer, dict) and "mfaRequired" in answer and "user" in answer


def _malformed(what: str) -> KinveyError:
    return KinveyError("KinveyInternalErrorRetry", status=502, debug=f"the upstream sent {what}")
