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
  attempts) are answered in Kinvey's error shape, logged without a traceback (the client's
  fault, not ours), and the connection is closed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from gateway.http.aiohttp_shim import (
    RequestHandler,
    closing_request_factory,
    handler_for,
    open_server_connections,
)
from gateway.kinvey.errors import KinveyError

log = logging.getLogger("gateway.server")


def _safe_reason(exc: BaseException | None, message: str | None) -> str:
    """The parser's complaint without the offending bytes (they may hold credentials)."""
    text = str(getattr(exc, "message", None) or message or "malformed request")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first.rstrip(": ")[:120] or "malformed request"


class KinveyRequestHandler(RequestHandler):
    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; cannot send an error")
        if status >= 500:
            self.logger.error("error handling request: %s", type(exc).__name__, exc_info=exc)
            error = KinveyError("KinveyInternalErrorStop", status=status)
        else:
            reason = _safe_reason(exc, message)
            self.logger.info("rejected a malformed request (%d): %s", status, reason)
            error = KinveyError("BadRequest", status=status, debug=reason)
        response = web.Response(
            status=error.status_code,
            body=error.body_bytes(),
            content_type="application/json",
            charset="utf-8",
        )
        response.force_close()
        return response


class CappedServer(web.Server):
    def __init__(self, *args: Any, max_connections: int, **kwargs: Any) -> None:
        super().__init__(*args, auto_decompress=False, **kwargs)
        self.max_connections = max_connections
        self.refused_connections = 0
        self.draining = False
        self.request_factory = closing_request_factory(self, self._is_draining)

    def _is_draining(self) -> bool:
        return self.draining

    def __call__(self) -> RequestHandler:
        return handler_for(self, KinveyRequestHandler)

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
