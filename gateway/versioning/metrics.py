"""TranslationMetrics: what the engine counts, and a no-op stand-in.

The engine (``versioning.pipeline``) is the only caller: change hooks never count anything
themselves, so every change is counted alike, with its name. ``observability.metrics.Metrics``
satisfies this protocol; ``NO_METRICS`` is for contexts without metrics (tools, tests).
"""

from __future__ import annotations

from typing import Protocol


class TranslationMetrics(Protocol):
    def translation_applied(self, change: str, direction: str) -> None:
        """A hook of ``change`` ran and returned; ``direction`` is its kind (request, ...)."""

    def translation_refused(self, change: str, error: str) -> None:
        """A hook of ``change`` answered the request with the Kinvey error named ``error``."""

    def translation_failed(self, change: str) -> None:
        """A hook of ``change`` raised something else: a bug, answered 500."""


class NoMetrics:
    """Counts nothing."""

    def translation_applied(self, change: str, direction: str) -> None:
        pass

    def translation_refused(self, change: str, error: str) -> None:
        pass

    def translation_failed(self, change: str) -> None:
        pass


NO_METRICS: TranslationMetrics = NoMetrics()
