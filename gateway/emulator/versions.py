"""Every version-dependent decision of the emulator, as pure functions of the API version.

Each constant names the first version that has a behaviour (spec §4); the handlers ask these
functions instead of comparing version numbers themselves, so the whole version history of the
emulated backend reads in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gateway.emulator.config import EmulatorConfig
from gateway.kinvey.errors import KinveyError

STRUCTURED_ERRORS_SINCE = 1
SESSIONS_SINCE = 1
DELETE_COUNT_SINCE = 2
DOWNLOAD_LOC_JSON_SINCE = 2
USER_SOFT_DELETE_DEFAULT_SINCE = 2
NEW_FILES_API_SINCE = 3
RESULT_SET_ERROR_SINCE = 4
OAUTH_REFRESH_401_SINCE = 4
CONTENT_TYPE_HEADER_REQUIRED_SINCE = 4
MULTI_INSERT_SINCE = 5
SIGNUP_WITHOUT_TOKEN_SINCE = 6
WRAPPED_LOGIN_SINCE = 6
MFA_SINCE = 6
USER_BASIC_REFUSED_SINCE = 6

_VERSION_TEXT = re.compile(r"-?[0-9]{1,6}")

UserDeleteMode = Literal["soft", "hard"]


@dataclass(frozen=True, slots=True)
class VersionRefused:
    """A version the emulator does not serve; ``echo`` is the number to echo, if any."""

    error: KinveyError
    echo: int | None


def resolve_api_version(raw: str | None, config: EmulatorConfig) -> int | VersionRefused:
    """The version a request is served at, from its ``X-Kinvey-API-Version`` header."""
    if raw is None:
        return config.default_api_version
    text = raw.strip()
    if not _VERSION_TEXT.fullmatch(text):
        return VersionRefused(
            KinveyError(
                "APIVersionNotAvailable",
                debug="The X-Kinvey-API-Version header must be a whole number",
            ),
            None,
        )
    version = int(text)
    if not config.min_api_version <= version <= config.max_api_version:
        return VersionRefused(
            KinveyError(
                "APIVersionNotAvailable",
                debug=f"API version {version} is not available; this backend serves versions "
                f"{config.min_api_version} to {config.max_api_version}",
            ),
            version,
        )
    return version


def feature_unavailable(debug: str) -> KinveyError:
    return KinveyError("FeatureUnavailable", debug=debug)


def has_sessions(version: int) -> bool:
    return version >= SESSIONS_SINCE


def delete_returns_count(version: int) -> bool:
    return version >= DELETE_COUNT_SINCE


def download_loc_redirects(version: int) -> bool:
    return version < DOWNLOAD_LOC_JSON_SINCE


def has_new_files_api(version: int) -> bool:
    return version >= NEW_FILES_API_SINCE


def refuses_oversized_results(version: int) -> bool:
    return version >= RESULT_SET_ERROR_SINCE


def oauth_refresh_error_status(version: int) -> int:
    return 401 if version >= OAUTH_REFRESH_401_SINCE else 500


def requires_content_type_header(version: int) -> bool:
    return version >= CONTENT_TYPE_HEADER_REQUIRED_SINCE


def has_multi_insert(version: int) -> bool:
    return version >= MULTI_INSERT_SINCE


def signup_returns_token(version: int) -> bool:
    # v0 has no sessions at all; v6 makes the client log in after signup.
    return has_sessions(version) and version < SIGNUP_WITHOUT_TOKEN_SINCE


def wraps_login(version: int) -> bool:
    return version >= WRAPPED_LOGIN_SINCE


def has_mfa(version: int) -> bool:
    return version >= MFA_SINCE


def accepts_user_basic(version: int) -> bool:
    return version < USER_BASIC_REFUSED_SINCE


def user_delete_mode(version: int, soft: bool, hard: bool) -> UserDeleteMode:
    """What ``DELETE /user/:appKey/:id`` does; flags a version did not know are ignored by it."""
    if version == 0:
        return "hard"  # v0 knows neither flag: every delete removes the user
    if version < USER_SOFT_DELETE_DEFAULT_SINCE:
        return "soft" if soft else "hard"  # v1: plain removes, soft=true disables
    if hard and not soft:
        return "hard"
    return "soft"  # v2+: plain disables, hard=true removes


def is_true_flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"
