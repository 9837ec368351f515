"""Social sign-up and login (``_socialIdentity`` instead of a username and password).

Kinvey checks a social identity with its provider (Facebook, Google, MIC...). The emulator
cannot ask a provider, so it trusts an identity whose token is current: ``expires`` (seconds
since the epoch) still ahead. Any other identity would need a token refresh, which the emulator
cannot do, and fails the way Kinvey does then (``OAuthTokenRefreshError``). A user signed up
with an identity is found again by provider and the identity's ``id`` (else its token).
"""

from __future__ import annotations

import time
from typing import Any

from gateway.emulator import versions
from gateway.emulator.store import EmulatorStore, UserRecord
from gateway.kinvey.errors import KinveyError

SOCIAL_IDENTITY = "_socialIdentity"


def _current(identity: Any) -> bool:
    if not isinstance(identity, dict) or not identity:
        return False
    for details in identity.values():
        expires = details.get("expires") if isinstance(details, dict) else None
        if not isinstance(expires, int | float) or expires <= time.time():
            return False
    return True


def checked_identity(body: dict[str, Any], version: int) -> dict[str, Any] | None:
    """The body's social identity once checked; None when the body has none."""
    if SOCIAL_IDENTITY not in body:
        return None
    identity = body[SOCIAL_IDENTITY]
    if not _current(identity):
        raise KinveyError(
            "OAuthTokenRefreshError",
            debug="The emulator cannot refresh social identity tokens",
            status=versions.oauth_refresh_error_status(version),
        )
    assert isinstance(identity, dict)  # checked by _current
    return identity


def _keys(identity: dict[str, Any]) -> set[tuple[str, str]]:
    keys = set()
    for provider, details in identity.items():
        if isinstance(details, dict):
            key = details.get("id") or details.get("access_token")
            keys.add((str(provider), str(key)))
    return keys


def user_with_identity(store: EmulatorStore, identity: dict[str, Any]) -> UserRecord | None:
    wanted = _keys(identity)
    for record in store.users.values():
        known = record.doc.get(SOCIAL_IDENTITY)
        if isinstance(known, dict) and wanted & _keys(known):
            return record
    return None
