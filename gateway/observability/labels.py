"""Bounded label values for every ``kgw_`` metric.

Prometheus keeps one time series per distinct label set, so a label fed from request data
(methods, paths, header values) must be folded onto a small fixed set first; otherwise one
client sending random methods or version headers could grow the gateway's memory and the
Prometheus server's series count without bound. Every normaliser here is total: any input maps
to one of the values listed below, never raises.
"""

from __future__ import annotations

from typing import Final

from gateway.kinvey.errors import ERROR_STATUS
from gateway.kinvey.routes import KNOWN_ROUTES

OTHER_METHOD: Final = "_OTHER"
OTHER_ROUTE: Final = "other"
INVALID_API_VERSION: Final = "invalid"
OTHER_VALUE: Final = "other"
INVALID_STATUS: Final = "invalid"
UPSTREAM_ERROR_CLASS: Final = "error"

METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# The route table is the one source of route names (docs/architecture.md lists the same set).
ROUTES: Final = KNOWN_ROUTES

STATUS_CLASSES: Final = ("1xx", "2xx", "3xx", "4xx", "5xx", INVALID_STATUS)

UPSTREAM_OUTCOMES: Final = (
    "ok",
    "connect_error",
    "timeout",
    "disconnected",
    "payload_error",
    "tls_error",
    "pool_timeout",
)
KINVEY_ERRORS: Final = tuple(ERROR_STATUS)
STORAGE_KINDS: Final = ("probe", "upload")
TRANSLATION_DIRECTIONS: Final = ("request", "response", "around")
AUTH_KINDS: Final = ("basic_to_session", "login_after_signup")
AUTH_RESULTS: Final = ("ok", "invalid_credentials", "error", "mfa_required", "no_app_secret")
AUTH_CACHE: Final = ("hit", "miss", "none")
GATEWAY_ERROR_REASONS: Final = (
    "version_not_available",
    "feature_unavailable",
    "upstream_unreachable",
    "upstream_timeout",
    "bad_request",
    "body_too_large",
    "overloaded",
    "client_timeout",
    "internal",
    "release_retired",
)


def method_label(method: str) -> str:
    """The request method, or ``_OTHER`` (OpenTelemetry's convention) for anything unusual."""
    return method if method in METHODS else OTHER_METHOD


def route_label(route: str) -> str:
    """A route name from the route table, or ``other``."""
    return route if route in ROUTES else OTHER_ROUTE


def api_versions(newest: int) -> tuple[str, ...]:
    """Every ``api_version`` label value: ``0`` up to the newest version the gateway knows
    (injected: it follows gateway/changes/), and ``invalid``."""
    return (*map(str, range(newest + 1)), INVALID_API_VERSION)


def api_version_label(api_version: int | None, newest: int) -> str:
    """``0``..``newest``; ``invalid`` when the header did not parse or named an unknown version."""
    if api_version is None or not 0 <= api_version <= newest:
        return INVALID_API_VERSION
    return str(api_version)


def code_label(status: int) -> str:
    """The exact status code (Kinvey uses 550 for business-logic errors), else ``invalid``."""
    return str(status) if 100 <= status <= 599 else INVALID_STATUS


def status_class_label(status: int | None) -> str:
    """``2xx``-style class of a status; ``error`` when no upstream status exists at all."""
    if status is None:
        return UPSTREAM_ERROR_CLASS
    return f"{status // 100}xx" if 100 <= status <= 599 else INVALID_STATUS


def one_of(value: str, allowed: tuple[str, ...]) -> str:
    """``value`` when it is in ``allowed``, else ``other``: a caller bug stays one series."""
    return value if value in allowed else OTHER_VALUE


def refusal_reason(error: str) -> str:
    """The ``kgw_gateway_errors`` reason of a Kinvey error a version change answered with."""
    if error == "FeatureUnavailable":
        return "feature_unavailable"
    return "internal" if ERROR_STATUS.get(error, 500) >= 500 else "bad_request"
