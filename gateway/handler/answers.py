"""Answers the gateway makes itself, and the body bytes an answer puts on the wire."""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict

from gateway.exchange import Exchange, new_request_id
from gateway.http.whole_answer import GATEWAY_SERVER, WholeAnswer
from gateway.kinvey import cors
from gateway.kinvey.errors import KinveyError


def error_answer(
    request: web.BaseRequest,
    exchange: Exchange,
    error: KinveyError,
    echo: int | None,
    client_version: int | None = None,
) -> tuple[web.StreamResponse, int]:
    """An answer the gateway makes itself, before any translation layer could shape it:
    ``echo`` is the version header it carries, ``client_version`` the body's shape."""
    exchange.request_id = new_request_id()
    headers: CIMultiDict[str] = CIMultiDict()
    headers["Content-Type"] = "application/json; charset=utf-8"
    headers["X-Kinvey-Request-Id"] = exchange.request_id
    headers["Server"] = GATEWAY_SERVER
    if echo is not None:
        headers["X-Kinvey-API-Version"] = str(echo)
    cors.add_answer_headers(headers)
    body = error.body_bytes(client_version)
    response = web.Response(status=error.status_code, headers=headers, body=body)
    return response, body_bytes(request, response)


def body_bytes(request: web.BaseRequest, response: web.StreamResponse) -> int:
    """Body bytes a complete answer puts on the wire: what the access log and metrics count.

    Called before aiohttp writes a ``web.Response``: HEAD answers and 1xx/204/304 carry none.
    """
    if isinstance(response, WholeAnswer):
        return response.wire_body_length
    status = response.status
    if request.method == "HEAD" or status < 200 or status in (204, 304):
        return 0
    body = response.body if isinstance(response, web.Response) else None
    return len(body) if isinstance(body, bytes | bytearray) else 0
