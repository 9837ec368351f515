"""Opening TCP connections to an upstream host: cached DNS answers and happy eyeballs.

Names are resolved with the event loop's ``getaddrinfo`` and the answer kept for
``DNS_TTL_SECONDS`` (10 s, aiohttp's ``ttl_dns_cache`` default), so a burst of new pooled
connections does not resolve the same name once each. The addresses are then tried as
RFC 8305 ("Happy Eyeballs v2") says, with ``aiohappyeyeballs`` (what aiohttp's own connector
uses): address families interleaved, the next attempt started 0.25 s after the previous one
if it has not connected yet, so a dead IPv6 route costs a quarter second instead of a
connect timeout. uvloop's ``create_connection`` has no ``happy_eyeballs_delay``: the socket is
connected here and handed to the loop.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohappyeyeballs

DNS_TTL_SECONDS = 10.0
HAPPY_EYEBALLS_DELAY = 0.25  # RFC 8305 §5's recommended "Connection Attempt Delay"
_CACHE_LIMIT = 256

AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]


class Dialer:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._answers: dict[tuple[str, int], tuple[float, list[AddrInfo]]] = {}
        self.lookups = 0  # names resolved (not answered from the cache)

    async def connect(self, host: str, port: int) -> socket.socket:
        """A connected, non-blocking socket to ``host``; ``OSError`` when no address works."""
        return await connect_first(await self.resolve(host, port))

    async def resolve(self, host: str, port: int) -> list[AddrInfo]:
        now = self._loop.time()
        cached = self._answers.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        self.lookups += 1
        infos = await self._loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        answer: list[AddrInfo] = [(int(f), int(t), p, c, a) for f, t, p, c, a in infos]
        if len(self._answers) >= _CACHE_LIMIT:
            self._answers.clear()  # many distinct hosts (storage URLs): start over
        self._answers[(host, port)] = (now + DNS_TTL_SECONDS, answer)
        return answer


async def connect_first(addresses: list[AddrInfo]) -> socket.socket:
    """Happy eyeballs over ``addresses`` (in resolver order, families interleaved)."""
    sock = await aiohappyeyeballs.start_connection(
        addresses, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY, interleave=1
    )
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
