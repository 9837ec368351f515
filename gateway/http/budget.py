"""One memory budget for every body the gateway buffers at once, across all requests.

``limits.max_buffered_body_bytes`` bounds one body; this bounds their sum, so N concurrent
large bodies cannot take the process past its memory limit: a request whose buffering would
exceed the budget is refused (``503`` with ``Retry-After``) instead. Bytes are charged as
they arrive or are decoded, and given back when the exchange ends. Pass-through streams and
charges nothing.
"""

from __future__ import annotations


class BudgetExhausted(Exception):
    """Buffering more now would exceed the global budget; the client should retry later."""


class BufferBudget:
    __slots__ = ("in_use", "refused", "total")

    def __init__(self, total: int) -> None:
        self.total = total
        self.in_use = 0
        self.refused = 0

    def hold(self) -> Held:
        return Held(self)


class Held:
    """The bytes one exchange holds of the budget; ``release`` gives them all back."""

    __slots__ = ("_budget", "bytes", "exhausted")

    def __init__(self, budget: BufferBudget) -> None:
        self._budget = budget
        self.bytes = 0
        self.exhausted = False

    def charge(self, size: int) -> None:
        budget = self._budget
        if budget.in_use + size > budget.total:
            budget.refused += 1
            self.exhausted = True
            raise BudgetExhausted(f"more than {budget.total} bytes of bodies are buffered")
        budget.in_use += size
        self.bytes += size

    def release(self) -> None:
        self._budget.in_use -= self.bytes
        self.bytes = 0
