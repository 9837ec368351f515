"""The emulator's own route table and the per-request context (:class:`Call`) handlers get.

Paths are matched segment by segment on the raw path: one trailing slash is ignored (the v3
SDK adds one everywhere), each segment is percent-decoded, ``:name`` segments are parameters.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from gateway.emulator.config import EmulatorConfig
from gateway.emulator.store import EmulatorStore
from gateway.kinvey.errors import KinveyError

Handler = Callable[["Call"], Awaitable[web.StreamResponse]]

JSON_BODY_LIMIT = 32 * 1024 * 1024


@dataclass
class Call:
    """One Kinvey request being served at ``version``."""

    request: web.Request
    version: int
    config: EmulatorConfig
    store: EmulatorStore
    params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str) -> str | None:
        """A query-string parameter (unknown ones such as ``_=`` are simply never asked for)."""
        return self.request.query.get(name)

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    async def raw_body(self) -> bytes:
        try:
            return await self.request.read()
        except web.HTTPRequestEntityTooLarge:
            raise KinveyError(
                "BadRequest", debug="The request body is too large", status=413
            ) from None

    async def json_body(self) -> Any:
        """The parsed JSON body; None when there is no body at all."""
        raw = await self.raw_body()
        if not raw.strip():
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise KinveyError("JSONParseError", debug=str(exc)) from None
        except RecursionError:  # a hostile, deeply nested document
            raise KinveyError("JSONParseError", debug="JSON nested too deeply") from None

    async def json_object(self, *, empty_ok: bool = False) -> dict[str, Any]:
        body = await self.json_body()
        if body is None and empty_ok:
            return {}
        if not isinstance(body, dict):
            raise KinveyError("BadRequest", debug="The request body must be a JSON object")
        return body


@dataclass(frozen=True, slots=True)
class Route:
    template: tuple[str, ...]
    handlers: Mapping[str, Handler]


def route(path: str, **handlers: Handler) -> Route:
    """``route("/appdata/:appKey", GET=handshake)``."""
    return Route(tuple(part for part in path.split("/") if part), handlers)


def split_path(raw_path: str) -> list[str]:
    path = raw_path.split("?", 1)[0]
    if path.endswith("/"):
        path = path[:-1]
    return [unquote(part) for part in path.split("/")[1:]] if path else []


def _bind(template: tuple[str, ...], segments: Sequence[str]) -> dict[str, str] | None:
    if len(template) != len(segments):
        return None
    params: dict[str, str] = {}
    for pattern, segment in zip(template, segments, strict=True):
        if pattern.startswith(":"):
            if not segment:
                return None
            params[pattern[1:]] = segment
        elif pattern != segment:
            return None
    return params


@dataclass(frozen=True, slots=True)
class RouteMatch:
    handler: Handler | None  # None: the path exists but not with this method
    params: dict[str, str]


def find_route(routes: Sequence[Route], method: str, segments: Sequence[str]) -> RouteMatch | None:
    """The first route whose path and method fit; else a handler-less match, else None."""
    path_only: RouteMatch | None = None
    for candidate in routes:
        params = _bind(candidate.template, segments)
        if params is None:
            continue
        handler = candidate.handlers.get(method)
        if handler is not None:
            return RouteMatch(handler, params)
        if path_only is None:
            path_only = RouteMatch(None, params)
    return path_only
