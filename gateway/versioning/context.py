"""ExchangeContext: what a hook may use beyond the request itself.

Services (the token cache, the URL signer, ...) are registered once at start, keyed by their
type, so the framework needs no import of the changes' helpers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from gateway.settings import AppPolicy, Settings

T = TypeVar("T")


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
    settings: Settings
    app: AppPolicy | None
    public_base_url: str
    services: Services
    metrics: Any
    applied: list[str] = field(default_factory=list)

    def service(self, kind: type[T]) -> T:
        return self.services.get(kind)
