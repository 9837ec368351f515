"""SIGTERM of a real gateway process while 20 keep-alive clients send without pause.

From the moment the gateway drains (``/readyz`` says 503), every answer says ``Connection:
close`` so that clients move to a new connection (another replica, behind a load balancer)
instead of sending their next request into a connection the gateway is about to close; no
request sent on a kept-alive connection is lost: each gets its whole answer. What fails after
the listener has closed is a new connection being refused, which never reached the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from dataclasses import dataclass, field

from tests.support.processes import free_port, gateway_process, serve_args
from tests.upstream.raw_client import RawClient, request_bytes
from tests.upstream.scripted_upstream import ScriptedUpstream

CLIENTS = 20
CLIENT_DEADLINE_SECONDS = 20.0
REQUEST = request_bytes("GET", "/appdata/kid_drain/books", {"X-Kinvey-API-Version": "6"})


@dataclass
class Tally:
    answers: list[tuple[float, str | None]] = field(default_factory=list)  # (sent at, Connection)
    lost_on_kept_alive: int = 0
    refused_new_connections: int = 0


async def _keep_sending(address: tuple[str, int], tally: Tally, stop: asyncio.Event) -> None:
    deadline = time.monotonic() + CLIENT_DEADLINE_SECONDS
    client: RawClient | None = None
    served = 0  # answers on the current connection
    while time.monotonic() < deadline:
        if client is None:
            try:
                client = await RawClient.connect(address)
                served = 0
            except OSError:
                tally.refused_new_connections += 1
                if stop.is_set():
                    return  # the listener is closed: the gateway has stopped
                await asyncio.sleep(0.01)
                continue
        sent_at = time.monotonic()
        try:
            answer = await client.request(REQUEST)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            if served:
                tally.lost_on_kept_alive += 1
            client.close()
            client = None
            continue
        served += 1
        tally.answers.append((sent_at, answer.header("Connection")))
        if (answer.header("Connection") or "").lower() == "close":
            client.close()
            client = None
    if client is not None:
        client.close()


async def _draining_since(admin_port: int) -> float:
    """When ``/readyz`` first answers 503 (polled from this loop, bounded)."""
    for _ in range(500):
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            probe = await RawClient.connect(("127.0.0.1", admin_port))
            try:
                answer = await probe.request(request_bytes("GET", "/readyz"))
            finally:
                probe.close()
            if answer.status == 503:
                return time.monotonic()
        await asyncio.sleep(0.01)
    raise AssertionError("the gateway never reported draining")


async def test_sigterm_answers_connection_close_and_loses_no_kept_alive_request() -> None:
    upstream = ScriptedUpstream()
    await upstream.start()
    port, admin = free_port(), free_port()
    args = serve_args(upstream.url, port, admin)
    env = {"KINVEY_GATEWAY_SHUTDOWN_DRAIN_SECONDS": "1.5"}
    tally, stop = Tally(), asyncio.Event()
    try:
        with gateway_process(args, admin_port=admin, env=env) as process:
            clients = [
                asyncio.create_task(_keep_sending(("127.0.0.1", port), tally, stop))
                for _ in range(CLIENTS)
            ]
            await asyncio.sleep(0.5)
            before = len(tally.answers)
            process.send_signal(signal.SIGTERM)
            draining = await _draining_since(admin)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*clients), CLIENT_DEADLINE_SECONDS + 5)
            exit_code = await asyncio.get_running_loop().run_in_executor(None, process.wait, 30)
    finally:
        await upstream.stop()
    assert exit_code == 0
    assert before > CLIENTS  # they were busy on kept-alive connections when the signal came
    after = [connection for sent_at, connection in tally.answers if sent_at > draining]
    assert len(after) > CLIENTS  # and kept sending while the gateway drained
    assert {(connection or "").lower() for connection in after} == {"close"}
    assert tally.lost_on_kept_alive == 0
