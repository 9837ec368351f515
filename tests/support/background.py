"""Servers running on their own event loop in a thread, for tests that drive raw sockets
synchronously (property-based tests run many examples against one long-lived gateway).

``fuzz_settings`` is those tests' shared Hypothesis policy: derandomized (a fixed seed), no
deadline, ``FUZZ_EXAMPLES`` examples when set (runs longer), else the module's default.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from hypothesis import HealthCheck, settings


def fuzz_settings(default_examples: int) -> settings:
    return settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", str(default_examples))),
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


async def serve_app(app: web.Application) -> tuple[web.AppRunner, int]:
    """``app`` served on 127.0.0.1 at a free port: the runner (to clean up) and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, int(runner.addresses[0][1])


class BackgroundLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Awaitable[Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self, cleanup: Callable[[], Awaitable[None]] | None = None) -> None:
        if cleanup is not None:
            self.run(cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def raw_exchange(port: int, payload: bytes, idle: float = 1.0) -> bytes:
    """Send bytes and read what the server answers until it closes or stays silent ``idle`` s.

    No half-close: a real client keeps its side open, and aiohttp treats EOF as a hang-up.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=idle) as sock:
        # The server may refuse and close before reading everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(payload)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def split_responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Parse a stream of HTTP/1.1 responses framed by Content-Length (what the gateway sends
    for the answers it makes); stops at the first it cannot frame."""
    out: list[tuple[int, dict[str, str], bytes]] = []
    while raw.startswith(b"HTTP/1."):
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if "chunked" in headers.get("transfer-encoding", ""):
            body, _, rest = rest.partition(b"0\r\n\r\n")
        else:
            body, rest = rest[:length], rest[length:]
        out.append((status, headers, body))
        raw = rest
    return out
