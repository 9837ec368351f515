"""Opening upstream connections: DNS answers cached, addresses tried as RFC 8305 says."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

from gateway.http.dialer import Dialer, connect_first


@contextlib.contextmanager
def _unanswering_address() -> Iterator[tuple[str, int]]:
    """An address that never completes a TCP handshake: a listener whose accept queue is full
    (Linux then drops further SYNs), like a route that black-holes packets."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(4):  # fill the queue; later attempts are left hanging
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(listener.getsockname())
            fillers.append(filler)
        yield listener.getsockname()
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_a_dead_first_address_does_not_stop_the_next_one() -> None:
    accepted: list[bool] = []

    async def serve(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(True)
        writer.close()

    live = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        with _unanswering_address() as dead:
            tcp = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "")
            addresses = [(*tcp, dead), (*tcp, live.sockets[0].getsockname())]
            # Tried one by one, the dead address would hang until the OS gives up (minutes).
            sock = await asyncio.wait_for(connect_first(addresses), 10)
            assert sock.getpeername() == live.sockets[0].getsockname()
            sock.close()
    finally:
        live.close()


async def test_names_are_resolved_once_per_ttl() -> None:
    dialer = Dialer(asyncio.get_running_loop())
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        for _ in range(3):
            (await dialer.connect("localhost", port)).close()
        assert dialer.lookups == 1
        assert await dialer.resolve("localhost", port) is await dialer.resolve("localhost", port)
    finally:
        server.close()
