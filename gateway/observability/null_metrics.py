"""``NullMetrics``: the same calls as ``Metrics``, counting nothing.

Used for ``metrics.enabled: false``, the storage client and shadow calls (traffic that is no
client's), and the benchmark baseline. A test checks it overrides every public method of
``Metrics`` with the same signature, so a new metric cannot be forgotten here.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.kinvey.client_identity import ClientIdentity
from gateway.observability.metrics import Metrics


class NullMetrics(Metrics):
    """Every call of ``Metrics``, doing nothing."""

    enabled = False

    def __init__(self) -> None:  # registers nothing, on purpose
        pass

    def register_changes(self, changes: Iterable[str]) -> None:
        pass

    def request_started(self) -> None:
        pass

    def request_finished(
        self,
        *,
        method: str,
        route: str,
        status: int,
        api_version: int | None,
        duration: float,
        request_bytes: int,
        response_bytes: int,
    ) -> None:
        pass

    def client_request(
        self, identity: ClientIdentity, api_version: int | None, refusal: str | None, now: float
    ) -> None:
        pass

    def upstream_finished(
        self, *, route: str, status: int | None, outcome: str, duration: float
    ) -> None:
        pass

    def storage_finished(self, kind: str, outcome: str) -> None:
        pass

    def translation_applied(self, change: str, direction: str) -> None:
        pass

    def translation_failed(self, change: str) -> None:
        pass

    def translation_refused(self, change: str, error: str) -> None:
        pass

    def auth_exchange(self, kind: str, result: str, cache: str) -> None:
        pass

    def gateway_error(self, reason: str) -> None:
        pass

    def connection_opened(self) -> None:
        pass

    def connection_reused(self) -> None:
        pass
