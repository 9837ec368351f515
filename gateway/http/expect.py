"""``Expect: 100-continue``: the gateway says ``100 Continue`` when it starts reading the body.

A client that sends ``Expect: 100-continue`` (curl for bodies over 1 KiB, .NET and Java
clients, many upload libraries) holds its body back until the server answers ``100 Continue``
or a final status. aiohttp's low-level server never answers it (only its URL dispatcher's
expect handler does), so a client waiting for the ``100`` would hang until a timeout.

The rule is nginx's: ``ngx_http_read_client_request_body`` sends ``100 Continue`` (through
``ngx_http_test_expect``) when it begins reading the body, and not when it answers without
reading it; RFC 9110 §10.1.1 allows both (a final answer instead of the ``100`` tells the client
not to send the body). So a request the gateway refuses before reading (refused version,
``FeatureUnavailable``, a body declared too large) gets its final answer and no ``100``; every
request whose body the gateway reads or streams on gets one ``100`` first, once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import HttpVersion11, web

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_SENT = web.RequestKey("kgw_continue_sent", bool)


def expects_continue(request: web.BaseRequest) -> bool:
    expect = request.headers.get("Expect")
    return (
        expect is not None
        and expect.strip().lower() == "100-continue"
        and request.version >= HttpVersion11
    )


async def send_continue(request: web.BaseRequest) -> None:
    """Write ``100 Continue`` if the client waits for it and none was sent yet."""
    if _SENT in request or not expects_continue(request):
        return
    request[_SENT] = True
    await request.writer.write(CONTINUE)
    # The interim answer is not the response: aiohttp must still see "nothing sent yet".
    request.writer.output_size = 0


async def continued(request: web.BaseRequest, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``body``, with ``100 Continue`` sent before its first chunk is awaited."""
    await send_continue(request)
    async for chunk in body:
        yield chunk
