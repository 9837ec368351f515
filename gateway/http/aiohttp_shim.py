"""Every use of aiohttp's private API, in one place, checked when the gateway starts.

The lean upstream client and the hardened server lean on aiohttp internals that no release
promises to keep: the C response parser (``http_parser.HttpResponseParser``) and its body
``StreamReader``, ``BaseProtocol``'s flow-control fields, the header serializer, the server's
``RequestHandler`` and ``web.Server``'s connection table. They changed between 3.12, 3.13 and
3.14 (``BaseProtocol._parser`` and the parser's pause protocol only exist since 3.14). So the
supported range is the one tested, ``SUPPORTED_RANGE`` (pyproject.toml declares the same),
the exact version the image ships is pinned in constraints.txt, and importing this module
checks the installed aiohttp: outside the range, or with an internal missing, the gateway
stops at start-up with one line naming the installed version instead of failing every
proxied request. CI runs the transport tests against the newest aiohttp release too
(tests/upstream/test_aiohttp_versions.py), so a new release is found there first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

import aiohttp
from aiohttp import web

SUPPORTED_RANGE = ">=3.14,<3.15"
_LOWEST = (3, 14, 0)
_BELOW = (3, 15)


class AiohttpMismatch(SystemExit):
    """The installed aiohttp is not one this gateway was tested with (exits with one line)."""


def _release(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in version.split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit()) if piece[:1].isdigit() else ""
        parts.append(int(digits or 0))
        if digits != piece:
            break  # 3.15.0a1: the pre-release tag ends the release number
    return tuple(parts)


def check_aiohttp(version: str = aiohttp.__version__, missing: str = "") -> None:
    """Raise ``AiohttpMismatch`` unless ``version`` is in the supported range with everything
    this module uses present (``missing`` names what is not)."""
    in_range = _release(version) >= _LOWEST and _release(version)[:2] < _BELOW
    if in_range and not missing:
        return
    why = "it was not tested with this gateway" if not in_range else f"{missing} is missing"
    raise AiohttpMismatch(
        f"kinvey-gateway: aiohttp {version} is installed, but this gateway needs "
        f"aiohttp{SUPPORTED_RANGE} ({why}); install the pinned versions: "
        "pip install -c constraints.txt ."
    )


def _find_missing() -> str:
    try:
        from aiohttp import base_protocol, http_parser, http_writer, streams, web_protocol
    except ImportError as exc:  # pragma: no cover - only on a very different aiohttp
        return f"module {exc.name}"
    wanted = (
        (base_protocol.BaseProtocol, "_parser"),
        (base_protocol.BaseProtocol, "_drain_helper"),
        (http_writer, "_serialize_headers"),
        (http_parser, "HttpResponseParser"),
        (streams, "EMPTY_PAYLOAD"),
        (web_protocol, "RequestHandler"),
    )
    for owner, name in wanted:
        slots = getattr(owner, "__slots__", ())
        if name not in slots and not hasattr(owner, name):
            return f"{getattr(owner, '__name__', owner)}.{name}"
    return ""


check_aiohttp(missing=_find_missing())

# Only reached on a supported aiohttp.
from aiohttp.base_protocol import BaseProtocol  # noqa: E402
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11  # noqa: E402
from aiohttp.http_exceptions import HttpProcessingError  # noqa: E402
from aiohttp.http_parser import HttpResponseParser, RawResponseMessage  # noqa: E402
from aiohttp.http_writer import _serialize_headers  # noqa: E402
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader  # noqa: E402
from aiohttp.web_protocol import RequestHandler  # noqa: E402

__all__ = [
    "EMPTY_PAYLOAD",
    "SERVER_SOFTWARE",
    "HttpProcessingError",
    "HttpVersion11",
    "ParsingProtocol",
    "RawResponseMessage",
    "RequestHandler",
    "ResponseParser",
    "StreamReader",
    "check_aiohttp",
    "closing_request_factory",
    "handler_for",
    "open_server_connections",
    "serialize_head",
    "session_connections_in_use",
]

ResponseParser = HttpResponseParser
_READ_LIMIT = 2**16  # bytes a body reader buffers before pausing the socket (aiohttp's default)


def serialize_head(first_line: str, headers: Any) -> bytes:
    """``first_line`` CRLF, the headers, CRLF: aiohttp's C serializer (refuses CR/LF in them)."""
    return _serialize_headers(first_line, headers)


class ParsingProtocol(BaseProtocol):
    """A protocol whose bytes an aiohttp parser reads; its body readers apply flow control
    to it (a full reader pauses the socket) through ``BaseProtocol``'s fields."""

    __slots__ = ()

    def new_response_parser(self, *, for_head: bool) -> HttpResponseParser:
        """A fresh parser for answers on this connection. A HEAD answer announces a body it
        does not carry: its parser must know."""
        parser = HttpResponseParser(
            self,
            self._loop,
            _READ_LIMIT,
            payload_exception=aiohttp.ClientPayloadError,
            response_with_body=not for_head,
            read_until_eof=True,
            auto_decompress=False,
        )
        self._parser = parser
        return parser

    @property
    def parser(self) -> HttpResponseParser | None:
        return cast("HttpResponseParser | None", self._parser)  # only ever set above

    @property
    def reading_paused(self) -> bool:
        return self._reading_paused

    async def drain(self) -> None:
        await self._drain_helper()


def handler_for(server: web.Server, handler_class: type[RequestHandler]) -> RequestHandler:
    """A request handler of ``handler_class`` made as ``web.Server.__call__`` makes its own."""
    loop: asyncio.AbstractEventLoop = server._loop
    return handler_class(server, loop=loop, **server._kwargs)


RequestFactory = Callable[[Any, Any, Any, Any, "asyncio.Task[None]"], web.BaseRequest]


def closing_request_factory(server: web.Server, closing: Callable[[], bool]) -> RequestFactory:
    """``web.Server``'s request factory, except that while ``closing()`` every request is
    treated as if it said ``Connection: close``: its answer says so and the connection closes
    after it (aiohttp frames every response from ``request.keep_alive``)."""
    loop: asyncio.AbstractEventLoop = server._loop

    def make(
        message: Any, payload: Any, protocol: Any, writer: Any, task: asyncio.Task[None]
    ) -> web.BaseRequest:
        if closing():
            message = message._replace(should_close=True)
        return web.BaseRequest(message, payload, protocol, writer, task, loop)

    return make


def open_server_connections(server: web.Server) -> int:
    return len(server._connections)


def session_connections_in_use(session: aiohttp.ClientSession) -> int:
    connector = session.connector
    return len(getattr(connector, "_acquired", ())) if connector is not None else 0
