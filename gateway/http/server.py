"""The proxy listener's server: aiohttp's low-level server, hardened.

- A cap on open connections: aiohttp already closes connections that stay idle (before or
  between requests) after the keep-alive timeout; the cap bounds how many can be open at once,
  so a flood of idle sockets cannot exhaust file descriptors and memory.
- Requests aiohttp's parser rejects (bad framing, huge or invalid headers, NUL bytes, smuggling
  attempts) are answered in Kinvey's error shape, logged without a traceback (the client's
  fault, not ours), and the connection is closed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from gateway.kinvey import cors
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
        cors.add_answer_headers(response.headers)
        response.force_close()
        return response


class CappedServer(web.Server):
    def __init__(self, *args: Any, max_connections: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_connections = max_connections
        self.refused_connections = 0

    def __call__(self) -> RequestHandler:
        return KinveyRequestHandler(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        if len(self._connections) > self.max_connections:
            self.refused_connections += 1
            if self.refused_connections == 1 or self.refused_connections % 1000 == 0:
                log.warning(
                    "client connection limit (%d) reached: closing new connections",
                    self.max_connections,
                )
            transport.abort()
