"""The proxy listener's server: aiohttp's low-level server with a cap on open connections.

aiohttp already closes connections that stay idle (before or between requests) after the
keep-alive timeout; the cap bounds how many can be open at once, so a flood of idle sockets
cannot exhaust file descriptors and memory.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger("gateway.server")


class CappedServer(web.Server):
    def __init__(self, *args: Any, max_connections: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_connections = max_connections
        self.refused_connections = 0

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
