"""Kinvey-shaped HTTP responses: compact JSON with a charset, empty bodies, errors by version."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gateway.kinvey.errors import KinveyError

JSON_CONTENT_TYPE = "application/json"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_response(body: Any, status: int = 200) -> web.Response:
    # Content-Type: application/json; charset=utf-8 (the v3/v4 SDKs insist on JSON).
    return web.json_response(body, status=status, dumps=_dumps)


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> web.Response:
    """No body and no Content-Type (204, 302, 308 ...)."""
    response = web.Response(status=status, headers=headers)
    return response


def error_response(error: KinveyError, client_version: int | None) -> web.Response:
    """The error in the shape ``client_version`` expects (None: the structured v1+ shape)."""
    return json_response(error.body(client_version), status=error.status_code)


def not_found_route(method: str, path: str) -> KinveyError:
    return KinveyError(
        "ResourceNotFound",
        description="The requested resource does not exist on this backend",
        debug=f"{method} {path}",
        status=404,
    )


def method_not_allowed(method: str, path: str) -> KinveyError:
    return KinveyError(
        "MethodNotAllowed",
        description="This method is not supported on this resource",
        debug=f"{method} {path}",
        status=405,
    )


# Kinvey's wording for the names gateway.kinvey.errors has no default description for.
_EXTRA_DESCRIPTIONS: dict[str, str] = {
    "MissingQuery": "The request is missing a query string",
    "InvalidQuerySyntax": "The query string in the request has an invalid syntax",
    "ParameterValueOutOfRange": "The value specified for one of the request parameters is out "
    "of range",
    "InvalidIdentifier": "One of more identifier names in the request has an invalid format",
    "IncompleteRequestBody": "The request body is either missing or incomplete",
    "MissingRequestParameter": "A required parameter is missing from the request",
}


def kinvey_error(name: str, debug: str = "", status: int = 0) -> KinveyError:
    """A KinveyError with Kinvey's standard description for ``name``."""
    return KinveyError(name, _EXTRA_DESCRIPTIONS.get(name, ""), debug, status)
