"""v6: multi-factor authentication endpoints."""

from __future__ import annotations

from gateway.kinvey.auth import split_authorization
from gateway.kinvey.errors import KinveyError
from gateway.kinvey.json_body import BodyDecodeError
from gateway.versioning import ANY_ROUTE, RequestInfo, VersionChange, newer, older

_DEBUG = "Multi-factor authentication is not available in this Kinvey API version"
# Login body fields that only mean something at v6: a second factor given up front.
_SECOND_FACTOR_FIELDS = ("recoveryCode", "deviceToken")


def _login_brings_second_factor(request: RequestInfo) -> bool:
    try:
        body = request.json
    except BodyDecodeError:
        return False  # the upstream answers a broken body itself
    return isinstance(body, dict) and any(name in body for name in _SECOND_FACTOR_FIELDS)


def _asks_for_mfa(request: RequestInfo) -> bool:
    scheme, _ = split_authorization(request.headers.get("Authorization"))
    return request.route.name == "user.mfa" or scheme == "kinveymfa"


class MfaEndpointsAdded(VersionChange):
    """Multi-factor authentication endpoints exist

    From v6, an account may require a second factor: `POST /user/:appKey/mfa/challenge` and
    `/mfa/complete` with `Authorization: KinveyMFA <mfaSessionToken>`, and
    `/user/:appKey/:id/authenticators…` to manage authenticators, `GET|POST
    /user/:appKey/:id/recovery-codes` to list and regenerate recovery codes, and a login body
    may carry a `recoveryCode` or a trusted device's `deviceToken` instead of a code. Older
    clients get `400 FeatureUnavailable` for these endpoints from the gateway, nothing sent
    upstream; so does a v6 client on an older upstream, which has no MFA. An older client's
    login is sent without `recoveryCode` and `deviceToken`, so an MFA account stays a `401`
    for it whatever its login body carries.
    """

    introduced_in = 6

    @older.request(routes={ANY_ROUTE}, when=_asks_for_mfa)
    def refuse_mfa_for_older_clients(request: RequestInfo) -> None:
        raise KinveyError("FeatureUnavailable", debug=_DEBUG)

    @older.request("POST", routes={"user.login"}, reads_body=True, when=_login_brings_second_factor)
    def drop_second_factor_from_older_logins(request: RequestInfo) -> None:
        _drop_second_factor(request)

    @newer.request(routes={ANY_ROUTE}, when=_asks_for_mfa)
    def refuse_mfa_on_older_upstream(request: RequestInfo) -> None:
        raise KinveyError("FeatureUnavailable", debug=_DEBUG)


def _drop_second_factor(request: RequestInfo) -> None:
    body = request.json
    request.json = {k: v for k, v in body.items() if k not in _SECOND_FACTOR_FIELDS}
