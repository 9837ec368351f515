"""Raw-socket requests to a gateway started by ``start_gateway`` (same event loop as the test).

The blocking ``raw_exchange`` runs in a thread so the gateway keeps serving meanwhile; the
answers are parsed by ``split_responses``: bytes on the wire are what the tests assert on.
"""

from __future__ import annotations

import asyncio

from tests.conftest import RunningGateway
from tests.support.background import raw_exchange, split_responses

Answer = tuple[int, dict[str, str], bytes]


def request_bytes(
    method: str, target: str, headers: dict[str, str], body: bytes = b"", *, close: bool = True
) -> bytes:
    """One HTTP/1.1 request; ``Content-Length`` is the body's unless ``headers`` name one."""
    lines = [f"{method} {target} HTTP/1.1", "Host: gw"]
    if close:
        lines.append("Connection: close")
    if "Content-Length" not in headers and body:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def raw_answers(gateway: RunningGateway, payload: bytes, idle: float = 5.0) -> list[Answer]:
    assert gateway.runtime.proxy_address is not None
    port = gateway.runtime.proxy_address[1]
    return split_responses(await asyncio.to_thread(raw_exchange, port, payload, idle))


async def raw_answer(
    gateway: RunningGateway, method: str, target: str, headers: dict[str, str], body: bytes = b""
) -> Answer:
    answers = await raw_answers(gateway, request_bytes(method, target, headers, body))
    assert len(answers) == 1, answers
    return answers[0]
