"""The proxy listener's server: aiohttp's low-level server, hardened.

- A cap on open connections: aiohttp already closes connections that stay idle (before or
  between requests) after the keep-alive timeout; the cap bounds how many can be open at once,
  so a flood of idle sockets cannot exhaust file descriptors and memory.
- Request bodies are never inflated by the listener (aiohttp's default would undo a
  ``Content-Encoding: gzip`` body and leave the client's ``Content-Length`` on the inflated
  bytes, which an upstream could then read as a second request). Pass-through forwards the
  bytes as sent, as nginx and Envoy do; a body a version change reads is decoded once, by the
  gateway, bounded (``gateway.kinvey.codings``).
- Draining (after SIGTERM): every answer says ``Connection: close`` and its connection is
  closed after it, so keep-alive clients open a new connection (to a replica that is not
  stopping) instead of sending their next request into a connection that is about to close.
- Requests aiohttp's parser rejects (bad framing, huge or invalid headers, NUL bytes, smuggling
  attempts) are answered with the body the ``error_answer`` the server is given makes (the
  gateway's: Kinvey's error shape), logged without a traceback (the client's fault, not
  ours), and the connection is closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from gateway.http.aiohttp_shim import (
    RequestHandler,
    closing_request_factory,
    handler_for,
    open_server_connections,
)

log = logging.getLogger("gateway.server")

# (status, the parser's complaint without the client's bytes; None for a server error) -> answer
ErrorAnswer = Callable[[int, str | None], web.Response]


def _safe_reason(exc: BaseException | None, message: str | None) -> str:
    """The parser's complaint without the offending bytes (they may hold credentials)."""
    text = str(getattr(exc, "message", None) or message or "malformed request")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first.rstrip(": ")[:120] or "malformed request"


class ErrorAnsweringHandler(RequestHandler):
    error_answer: ErrorAnswer

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; cannot send an error")
        reason: str | None = None
        if status >= 500:
            self.logger.error("error handling request: %s", type(exc).__name__, exc_info=exc)
        else:
            reason = _safe_reason(exc, message)
            self.logger.info("rejected a malformed request (%d): %s", status, reason)
        response = self.error_answer(status, reason)
        response.force_close()
        return response


class CappedServer(web.Server):
    def __init__(
        self, *args: Any, max_connections: int, error_answer: ErrorAnswer, **kwargs: Any
    ) -> None:
        super().__init__(*args, auto_decompress=False, **kwargs)
        self.error_answer = error_answer
        self.max_connections = max_connections
        self.refused_connections = 0
        self.draining = False
        self.request_factory = closing_request_factory(self, self._is_draining)

    def _is_draining(self) -> bool:
        return self.draining

    def __call__(self) -> RequestHandler:
        handler = handler_for(self, ErrorAnsweringHandler)
        assert isinstance(handler, ErrorAnsweringHandler)
        handler.error_answer = self.error_answer
        return handler

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        if open_server_connections(self) > self.max_connections:
            self.refused_connections += 1
            if self.refused_connections == 1 or self.refused_connections % 1000 == 0:
                log.warning(
                    "client connection limit (%d) reached: closing new connections",
                    self.max_connections,
                )
            transport.abort()
