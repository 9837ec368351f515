"""The version-change framework: declare changes, bundle them, plan and run translations."""

from gateway.versioning.change import (
    ANY_ROUTE,
    ERRORS,
    SUCCESS,
    MalformedChangeError,
    Next,
    VersionChange,
    newer,
    older,
)
from gateway.versioning.context import ExchangeContext
from gateway.versioning.model import RequestInfo, ResponseInfo

__all__ = [
    "ANY_ROUTE",
    "ERRORS",
    "SUCCESS",
    "ExchangeContext",
    "MalformedChangeError",
    "Next",
    "RequestInfo",
    "ResponseInfo",
    "VersionChange",
    "newer",
    "older",
]
