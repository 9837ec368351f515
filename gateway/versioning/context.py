"""ExchangeContext: what a hook may use beyond the request itself.

Services (the token cache, the URL signer, ...) are registered once at start, keyed by their
type, so the framework needs no import of the changes' helpers. The settings and the app's
policy arrive as the narrow views below (``gateway.settings`` satisfies them): the engine
imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from gateway.versioning.metrics import TranslationMetrics

T = TypeVar("T")


class SettingsView(Protocol):
    """What the changes read of the gateway's settings: the Kinvey result-set limit and the
    configured apps by app key."""

    @property
    def result_set_limit(self) -> int: ...

    @property
    def apps(self) -> Mapping[str, Any]: ...


class AppView(Protocol):
    """The configured policy of the request's app (its secret, for logins on its behalf)."""

    @property
    def app_secret(self) -> str | None: ...


class Services:
    def __init__(self) -> None:
        self._by_type: dict[type[Any], Any] = {}

    def register(self, service: Any) -> None:
        self._by_type[type(service)] = service

    def get(self, kind: type[T]) -> T:
        try:
            return self._by_type[kind]  # type: ignore[no-any-return]
        except KeyError:
            raise LookupError(f"no {kind.__name__} service registered") from None


@dataclass(slots=True)
class ExchangeContext:
    settings: SettingsView
    app: AppView | None
    public_base_url: str
    services: Services
    metrics: TranslationMetrics
    applied: list[str] = field(default_factory=list)

    def service(self, kind: type[T]) -> T:
        return self.services.get(kind)
