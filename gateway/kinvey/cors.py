"""CORS as Kinvey answers it, for the answers the gateway makes itself (the emulator, the
reference the gateway is compared with, has its own copy written from the same rules).

Kinvey's API is called cross-origin by web and hybrid (PhoneGap/Cordova/Ionic) apps with the
HTML5 SDK, so every answer carries ``Access-Control-Allow-Origin: *`` and exposes the Kinvey
headers a client reads; a preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is
answered ``204`` allowing the method and the headers it asks for. **Decision** (issue 14, the
public record names no exact values): a wildcard origin (the SDKs send credentials in
``Authorization``, never cookies, so no credentialed mode is needed), the methods the API uses,
and the requested headers echoed.

An answer the gateway makes itself (refused version, 413, 503, upstream down, gateway file
URLs) carries the same headers, so a cross-origin app can read the Kinvey error instead of
seeing a network error. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

ALLOW_ORIGIN = "Access-Control-Allow-Origin"
EXPOSE_HEADERS = "Access-Control-Expose-Headers"
REQUEST_METHOD = "Access-Control-Request-Method"
REQUEST_HEADERS = "Access-Control-Request-Headers"

ANSWER_HEADERS: tuple[tuple[str, str], ...] = (
    (ALLOW_ORIGIN, "*"),
    (
        EXPOSE_HEADERS,
        "Location, X-Kinvey-API-Version, X-Kinvey-Request-Id, X-Kinvey-Request-Start, "
        "X-Kinvey-Content-Type, Content-Range, Range",
    ),
)
ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
MAX_AGE_SECONDS = "600"


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    """A browser's CORS preflight: it never carries the version header or credentials."""
    return method == "OPTIONS" and REQUEST_METHOD in headers


def add_answer_headers(headers: MutableMapping[str, str]) -> None:
    """Add the CORS headers of an actual answer, keeping any the answer has already."""
    for name, value in ANSWER_HEADERS:
        headers.setdefault(name, value)


def preflight_headers(request_headers: Mapping[str, str]) -> dict[str, str]:
    """The headers of a ``204`` preflight answer to a request with ``request_headers``."""
    answer = dict(ANSWER_HEADERS)
    answer["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    asked = request_headers.get(REQUEST_HEADERS)
    if asked:
        answer["Access-Control-Allow-Headers"] = asked
    answer["Access-Control-Max-Age"] = MAX_AGE_SECONDS
    return answer
