"""Kinvey-shaped error bodies, shared by the gateway and the built-in emulator.

v1+ clients get ``{"error": name, "description": text, "debug": text}``; v0 clients (before
"standardized error reporting") get ``{"error": description}`` with the same status code.
This module is pure: no I/O, no aiohttp.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Status code of every Kinvey error name (Kinvey's troubleshooting guide).
ERROR_STATUS: dict[str, int] = {
    **dict.fromkeys(
        (
            "ParameterValueOutOfRange",
            "InvalidQuerySyntax",
            "MissingQuery",
            "JSONParseError",
            "MissingRequestHeader",
            "IncompleteRequestBody",
            "MissingRequestParameter",
            "InvalidIdentifier",
            "FeatureUnavailable",
            "CORSDisabled",
            "APIVersionNotAvailable",
            "BadRequest",
            "BLRuntimeError",
            "ResultSetSizeExceeded",
        ),
        400,
    ),
    "InvalidCredentials": 401,
    "InsufficientCredentials": 401,
    "WritesToCollectionDisallowed": 403,
    "IndirectCollectionAccessDisallowed": 403,
    "AppProblem": 403,
    "MissingConfiguration": 403,
    "EntityNotFound": 404,
    "CollectionNotFound": 404,
    "AppNotFound": 404,
    "UserNotFound": 404,
    "BlobNotFound": 404,
    "UserAlreadyExists": 409,
    "StaleRequest": 409,
    "KinveyInternalErrorRetry": 500,
    "KinveyInternalErrorStop": 500,
    "DuplicateEndUsers": 500,
    "APIVersionNotImplemented": 501,
    "BLSyntaxError": 550,
    "BLTimeoutError": 550,
    "BLViolationError": 550,
    "BLInternalError": 550,
}

# Kinvey's standard descriptions, used when a caller gives none.
DEFAULT_DESCRIPTIONS: dict[str, str] = {
    "APIVersionNotAvailable": "This API version is not available for your app.",
    "FeatureUnavailable": "Requested functionality is unavailable in this API version",
    "InvalidCredentials": "Invalid credentials. Please retry your request with correct credentials",
    "InsufficientCredentials": "The credentials used to authenticate this request are not "
    "authorized to run this operation. Please retry your request with appropriate credentials",
    "EntityNotFound": "This entity not found in the collection",
    "CollectionNotFound": "This collection not found for this app backend",
    "AppNotFound": "This app backend not found",
    "UserNotFound": "This user does not exist for this app backend",
    "BlobNotFound": "This blob not found for this app backend",
    "UserAlreadyExists": "This username is already taken. Please retry your request with a "
    "different username",
    "JSONParseError": "Unable to parse the JSON in the request",
    "BadRequest": "Unable to understand request",
    "MissingRequestHeader": "The request is missing a required header",
    "ResultSetSizeExceeded": "Your query produced more than 10,000 results. Please rewrite "
    "your query to be more selective.",
    "KinveyInternalErrorRetry": "The Kinvey server encountered an unexpected error. Please retry "
    "your request.",
    "KinveyInternalErrorStop": "The Kinvey server encountered an unexpected error. Please "
    "contact support@kinvey.com for assistance.",
    "OAuthTokenRefreshError": "The OAuth token for this user could not be refreshed",
}


@dataclass(frozen=True, slots=True)
class KinveyError(Exception):
    """A Kinvey error as a value: raise it where a request must be answered with it."""

    name: str
    description: str = ""
    debug: str = ""
    status: int = 0

    @property
    def status_code(self) -> int:
        return self.status or ERROR_STATUS.get(self.name, 500)

    def body(self, client_version: int | None = None) -> dict[str, Any]:
        return error_body(self.name, self.description, self.debug, client_version)

    def body_bytes(self, client_version: int | None = None) -> bytes:
        return json.dumps(self.body(client_version), separators=(",", ":")).encode()


def describe(name: str, description: str = "") -> str:
    return description or DEFAULT_DESCRIPTIONS.get(name, name)


def error_body(
    name: str, description: str = "", debug: str = "", client_version: int | None = None
) -> dict[str, Any]:
    """The error body a client at ``client_version`` expects (None means v1+ shape)."""
    text = describe(name, description)
    if client_version == 0:
        return {"error": text}
    return {"error": name, "description": text, "debug": debug}


def to_v0_error_body(body: Any) -> Any:
    """Downgrade a v1+ error body to v0's ``{"error": description}``; other shapes pass."""
    if isinstance(body, dict) and isinstance(body.get("error"), str) and "description" in body:
        return {"error": describe(body["error"], str(body.get("description") or ""))}
    return body


def is_error_body(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("error"), str)


# Spec §1: a refused version header is answered in the structured shape even to a v0 client,
# so a client that cannot be served can still learn why.
_ALWAYS_STRUCTURED = frozenset({"APIVersionNotAvailable"})


def for_v0_client(body: Any) -> Any:
    """What a v0 client gets for ``body``: a Kinvey error in v0's shape, anything else (and
    ``APIVersionNotAvailable``) as it is, the same object."""
    if not is_error_body(body) or body["error"] in _ALWAYS_STRUCTURED:
        return body
    return to_v0_error_body(body)
