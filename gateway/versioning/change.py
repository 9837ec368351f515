"""VersionChange: one behavioural difference between API version N-1 and N, with its hooks.

A change is a class in its own file, ``introduced_in = N``, whose docstring is its changelog
entry. Its hooks are functions in the class body (static methods when mypy should read the
first argument as annotated, not as the class) decorated with one of two sides:

- ``older``: for clients *older* than the change on an upstream that has it (client < N <=
  upstream): ``older.request`` upgrades the request N-1 → N, ``older.response`` downgrades the
  response N → N-1, ``older.around`` wraps the upstream call for multi-call flows;
- ``newer``: forward emulation for clients that have the change on an upstream that does not
  (upstream < N <= client): ``newer.request`` downgrades, ``newer.response`` upgrades.

Every hook says what it matches (methods, route names from ``kinvey.routes``, response
statuses — 2xx unless listed), so the gateway knows before reading any body whether it must.
A malformed change fails at import with a message naming the class.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar

from gateway.kinvey.routes import KNOWN_ROUTES
from gateway.versioning.model import RequestInfo, ResponseInfo

SUCCESS: frozenset[int] = frozenset(range(200, 300))
ERRORS: frozenset[int] = frozenset(range(400, 600))
ANY_ROUTE = "*"

Next = Callable[[RequestInfo], Awaitable[ResponseInfo]]
RequestHook = Callable[[RequestInfo], None]
ResponseHook = Callable[[ResponseInfo], None]
AroundHook = Callable[[RequestInfo, Next], Awaitable[ResponseInfo]]


class MalformedChangeError(TypeError):
    """A version change is declared wrongly; raised when its module is imported."""


class Side(StrEnum):
    OLDER = "older"  # clients older than the change, on an upstream that has it
    NEWER = "newer"  # clients that have the change, on an upstream that does not


class HookKind(StrEnum):
    REQUEST = "request"
    RESPONSE = "response"
    AROUND = "around"


@dataclass(frozen=True, slots=True)
class Hook:
    side: Side
    kind: HookKind
    fn: Callable[..., Any]
    methods: frozenset[str] | None  # None: any method
    routes: frozenset[str] | None  # None: any route
    statuses: frozenset[int] = SUCCESS
    reads_body: bool = False
    change: str = field(default="", compare=False)
    # A cheap per-request test: when it says no, the hook is skipped and not counted as
    # applied (hooks on every route, like the Basic exchange, act on few requests).
    when: Callable[[RequestInfo], bool] | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return self.fn.__name__

    def matches(self, method: str, route: str) -> bool:
        return (self.methods is None or method in self.methods) and (
            self.routes is None or route in self.routes
        )


class _Side:
    def __init__(self, side: Side) -> None:
        self.side = side

    def _hook(
        self,
        kind: HookKind,
        methods: Iterable[str],
        routes: Collection[str],
        statuses: Collection[int] = SUCCESS,
        reads_body: bool = False,
        when: Callable[[RequestInfo], bool] | None = None,
    ) -> Callable[[Callable[..., Any]], Hook]:
        method_set = frozenset(m.upper() for m in methods) or None
        if not routes:
            raise MalformedChangeError(f"{self.side}.{kind}: name the routes it matches")
        route_set = None if ANY_ROUTE in routes else frozenset(routes)
        unknown = sorted((route_set or frozenset()) - KNOWN_ROUTES)
        if unknown:
            raise MalformedChangeError(f"{self.side}.{kind}: unknown route(s) {unknown}")

        def decorate(fn: Callable[..., Any] | staticmethod[..., Any]) -> Hook:
            if isinstance(fn, staticmethod):  # mypy types a plain function's first argument as
                fn = fn.__func__  # the change class ("self"); a static method's as annotated
            params = list(inspect.signature(fn).parameters)
            wanted = 2 if kind is HookKind.AROUND else 1
            if len(params) != wanted:
                raise MalformedChangeError(
                    f"hook {fn.__qualname__} must take {wanted} argument(s), takes {params}"
                )
            if (kind is HookKind.AROUND) != inspect.iscoroutinefunction(fn):
                raise MalformedChangeError(
                    f"hook {fn.__qualname__}: around hooks are async, the others are not"
                )
            statuses_set = frozenset(statuses)
            return Hook(
                self.side, kind, fn, method_set, route_set, statuses_set, reads_body, when=when
            )

        return decorate

    def request(
        self,
        *methods: str,
        routes: Collection[str],
        reads_body: bool = False,
        when: Callable[[RequestInfo], bool] | None = None,
    ) -> Callable[[RequestHook], Hook]:
        return self._hook(HookKind.REQUEST, methods, routes, reads_body=reads_body, when=when)

    def response(
        self, *methods: str, routes: Collection[str], statuses: Collection[int] = SUCCESS
    ) -> Callable[[ResponseHook], Hook]:
        return self._hook(HookKind.RESPONSE, methods, routes, statuses)

    def around(
        self,
        *methods: str,
        routes: Collection[str],
        reads_body: bool = False,
        when: Callable[[RequestInfo], bool] | None = None,
    ) -> Callable[[AroundHook], Hook]:
        return self._hook(HookKind.AROUND, methods, routes, reads_body=reads_body, when=when)


older = _Side(Side.OLDER)
newer = _Side(Side.NEWER)


class VersionChange:
    """Base class of every version change; see the module docstring."""

    introduced_in: ClassVar[int]
    hooks: ClassVar[tuple[Hook, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__qualname__
        if VersionChange not in cls.__bases__:
            raise MalformedChangeError(f"{name}: subclass VersionChange directly")
        if not (cls.__doc__ or "").strip():
            raise MalformedChangeError(f"{name}: the docstring is the changelog entry; add one")
        version = cls.__dict__.get("introduced_in")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise MalformedChangeError(f"{name}: set introduced_in to the version (>= 1)")
        hooks: list[Hook] = []
        for attr, value in cls.__dict__.items():
            if isinstance(value, Hook):
                hooks.append(replace(value, change=name))
            elif callable(value) and not attr.startswith("__"):
                raise MalformedChangeError(
                    f"{name}.{attr}: undecorated function; use older.*/newer.* or a module helper"
                )
        if not hooks:
            raise MalformedChangeError(f"{name}: a change needs at least one hook")
        cls.hooks = tuple(hooks)

    def __init__(self) -> None:
        raise TypeError("version changes are declarations; they are never instantiated")
