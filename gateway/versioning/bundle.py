"""VersionBundle: every change in version order, and the plan for one kind of request.

For a client at N and an upstream pinned at M, the changes between them become layers,
outermost (closest to the client) first: for N < M the ``older`` hooks of versions N+1..M;
for N > M the ``newer`` hooks of versions N..M+1. Each layer runs its request hooks, its
around hooks (nested) and, on the way back, its response hooks — so request hooks run in
ascending version order, response hooks descending, around hooks nested. Changes above the
pin (or below the client) stay dormant. Plans are computed once per
(N, M, method, route) and cached.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from gateway.versioning.change import Hook, HookKind, MalformedChangeError, Side, VersionChange


@dataclass(frozen=True, slots=True)
class Layer:
    change: str
    version: int
    requests: tuple[Hook, ...]
    arounds: tuple[Hook, ...]
    responses: tuple[Hook, ...]
    response_statuses: frozenset[int] = frozenset()  # any response hook's; set by the bundle


@dataclass(frozen=True, slots=True)
class Plan:
    layers: tuple[Layer, ...]
    reads_request_body: bool

    @property
    def is_passthrough(self) -> bool:
        return not self.layers

    @property
    def change_names(self) -> tuple[str, ...]:
        return tuple(layer.change for layer in self.layers)


EMPTY_PLAN = Plan((), False)


class VersionBundle:
    def __init__(self, changes: Iterable[type[VersionChange]]) -> None:
        ordered = list(changes)
        names = [c.__qualname__ for c in ordered]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise MalformedChangeError(f"duplicate version change names: {duplicates}")
        # Stable sort: within a version, the given order (file name, then definition) holds.
        self.changes: tuple[type[VersionChange], ...] = tuple(
            sorted(ordered, key=lambda c: c.introduced_in)
        )
        self.newest_version = max((c.introduced_in for c in self.changes), default=0)
        self._plan = lru_cache(maxsize=4096)(self._compute_plan)

    def clear_plans(self) -> None:
        """Forget the cached plans (a test that rewrites a change's hooks calls this)."""
        self._plan.cache_clear()

    def plan(self, client: int, upstream: int, method: str, route: str) -> Plan:
        if client == upstream:
            return EMPTY_PLAN
        return self._plan(client, upstream, method, route)

    def _compute_plan(self, client: int, upstream: int, method: str, route: str) -> Plan:
        if client < upstream:
            side, active = (
                Side.OLDER,
                [c for c in self.changes if client < c.introduced_in <= upstream],
            )
        else:
            side = Side.NEWER
            active = [c for c in reversed(self.changes) if upstream < c.introduced_in <= client]
        layers: list[Layer] = []
        for change in active:
            hooks = [h for h in change.hooks if h.side == side and h.matches(method, route)]
            if hooks:
                layers.append(
                    Layer(
                        change.__qualname__,
                        change.introduced_in,
                        tuple(h for h in hooks if h.kind is HookKind.REQUEST),
                        tuple(h for h in hooks if h.kind is HookKind.AROUND),
                        tuple(h for h in hooks if h.kind is HookKind.RESPONSE),
                        frozenset().union(
                            *(h.statuses for h in hooks if h.kind is HookKind.RESPONSE)
                        ),
                    )
                )
        if not layers:
            return EMPTY_PLAN
        reads_body = any(
            h.reads_body for layer in layers for h in (*layer.requests, *layer.arounds)
        )
        return Plan(tuple(layers), reads_body)
