"""The ``X-Kinvey-API-Version`` header: parse the client's version, decide what is allowed.

Spec §1: a missing header takes the app's default (which defaults to the upstream pin); a value
that is not a whole number, above the newest known version, or below the app's minimum is
refused with ``400 APIVersionNotAvailable`` before anything is sent upstream.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.kinvey.errors import KinveyError

VERSION_HEADER = "X-Kinvey-API-Version"
# The newest version Kinvey has published; the gateway knows more once a change file names one.
KINVEY_NEWEST_VERSION = 6
_MAX_DIGITS = 3


def newest_known_version(newest_change: int) -> int:
    """The newest version the gateway accepts (client header, pin, config, metric labels):
    Kinvey's, or a newer one a version change introduces (``VersionBundle.newest_version``)."""
    return max(newest_change, KINVEY_NEWEST_VERSION)


@dataclass(frozen=True, slots=True)
class VersionRefused:
    """The client's version is not served; ``echo`` is the numeric value to echo, if any."""

    error: KinveyError
    echo: int | None


def parse_version(
    raw: str | None, default: int, minimum: int = 0, newest: int = KINVEY_NEWEST_VERSION
) -> int | VersionRefused:
    if raw is None:
        return default
    text = raw.strip()
    digits = text[1:] if text.startswith("-") else text
    # str.isdigit() accepts non-ASCII digits; Kinvey's header is ASCII only.
    if not digits or len(digits) > _MAX_DIGITS or not digits.isascii() or not digits.isdigit():
        return VersionRefused(
            KinveyError(
                "APIVersionNotAvailable",
                debug="The X-Kinvey-API-Version header must be a whole number",
            ),
            None,
        )
    version = int(text)
    if version > newest:
        return VersionRefused(
            KinveyError(
                "APIVersionNotAvailable",
                debug=f"API version {version} is unknown; the newest is {newest}",
            ),
            version,
        )
    if version < 0:
        # Still a number, so it is echoed (§1) like any other refused version.
        return VersionRefused(
            KinveyError("APIVersionNotAvailable", debug=f"API version {version} does not exist"),
            version,
        )
    if version < minimum:
        return VersionRefused(
            KinveyError(
                "APIVersionNotAvailable",
                debug=f"API version {version} is no longer served for this app; "
                f"the oldest served is {minimum}",
            ),
            version,
        )
    return version
