"""Retiring an app release: ``apps.<appKey>.min_client_app_version`` and ``report_only``.

A request whose ``X-Kinvey-Client-App-Version`` is below the app's minimum is answered by the
gateway, without calling the upstream, with ``400 FeatureUnavailable`` whose description is the
operator's ``retired_message``. Why that status and name: every Kinvey SDK generation hands it
to the app as an ordinary, final error carrying the description (the 1.x library rejects with
``{name: "FeatureUnavailable", description}``; kinvey-node-sdk 3 and kinvey-js-sdk 7 map the
name to ``FeatureUnavailableError(description)``), and the v0 shape ``{"error": description}``
puts the message itself where v0 apps read the error; tests/sdk/test_sdk_identity.py shows
each SDK handing it to the app. The alternatives do harm: on a 401 the SDKs try to refresh the
user's session (kinvey@1.7.0 on any 401), kinvey-js-sdk 7 turns an unknown name on 401/403
into ``InsufficientCredentialsError``, and 5xx invites retries. A request with no release
header, or one that does not parse, is never refused: the switch only acts on releases it can
compare. Pure: no I/O.
"""

from __future__ import annotations

from typing import Final

from gateway.kinvey.client_identity import release_number
from gateway.kinvey.errors import KinveyError

REFUSED: Final = "refused"
REPORT_ONLY: Final = "report_only"
DEFAULT_RETIRED_MESSAGE: Final = (
    "This version of the app is no longer supported. Please update the app to continue."
)


def retirement_verdict(release: str, minimum: str | None, report_only: bool) -> str | None:
    """``refused``, ``report_only`` (would be refused) or None (served as usual)."""
    if minimum is None:
        return None
    number, floor = release_number(release), release_number(minimum)
    if number is None or floor is None or number >= floor:
        return None
    return REPORT_ONLY if report_only else REFUSED


def retired_error(release: str, minimum: str, message: str | None) -> KinveyError:
    return KinveyError(
        "FeatureUnavailable",
        description=message or DEFAULT_RETIRED_MESSAGE,
        debug=f"app release {release} is retired for this app; the oldest served is {minimum}",
    )
