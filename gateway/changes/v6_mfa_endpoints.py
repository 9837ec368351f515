"""v6: multi-factor authentication endpoints."""

from __future__ import annotations

from gateway.kinvey.auth import split_authorization
from gateway.kinvey.errors import KinveyError
from gateway.versioning import ANY_ROUTE, RequestInfo, VersionChange, newer, older

_DEBUG = "Multi-factor authentication is not available in this Kinvey API version"


def _asks_for_mfa(request: RequestInfo) -> bool:
    scheme, _ = split_authorization(request.headers.get("Authorization"))
    return request.route.name == "user.mfa" or scheme == "kinveymfa"


class MfaEndpointsAdded(VersionChange):
    """Multi-factor authentication endpoints exist

    From v6, an account may require a second factor: `POST /user/:appKey/mfa/challenge` and
    `/mfa/complete` with `Authorization: KinveyMFA <mfaSessionToken>`, and
    `/user/:appKey/:id/authenticators…` to manage authenticators. Older clients get
    `400 FeatureUnavailable` for these from the gateway, nothing sent upstream; so does a v6
    client on an older upstream, which has no MFA.
    """

    introduced_in = 6

    @older.request(routes={ANY_ROUTE}, when=_asks_for_mfa)
    def refuse_mfa_for_older_clients(request: RequestInfo) -> None:
        raise KinveyError("FeatureUnavailable", debug=_DEBUG)

    @newer.request(routes={ANY_ROUTE}, when=_asks_for_mfa)
    def refuse_mfa_on_older_upstream(request: RequestInfo) -> None:
        raise KinveyError("FeatureUnavailable", debug=_DEBUG)
