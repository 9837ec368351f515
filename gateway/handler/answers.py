"""The answer a client gets: an upstream answer relayed or a translated one written whole,
each with the client's headers; an error the gateway makes itself; the bytes it counts."""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict

from gateway.exchange import Exchange, new_request_id, rewrite_location
from gateway.http.streaming import Tee, relay, write_buffered
from gateway.http.whole_answer import GATEWAY_SERVER, WholeAnswer
from gateway.kinvey import cors
from gateway.kinvey.errors import KinveyError
from gateway.shadow.runner import Captured, Replay, ShadowRunner
from gateway.versioning.model import ResponseInfo

Answer = tuple[web.StreamResponse, int]  # the response and the body bytes it put on the wire
# Seconds a client refused for lack of buffer budget is asked to wait (bodies drain in ~1 s).
RETRY_AFTER_SECONDS = "1"
_VERSION_TEXT = tuple(str(v) for v in range(100))


class Answers:
    def __init__(self, public_base_url: str | None, body_timeout: float) -> None:
        self.public_base_url = public_base_url
        self.body_timeout = body_timeout

    async def answer(
        self,
        request: web.BaseRequest,
        exchange: Exchange,
        result: ResponseInfo,
        version: int | None,
        base_url: str,
        replay: Replay | None = None,
        shadow: ShadowRunner | None = None,
    ) -> Answer:
        """``result`` to the client; with a ``replay``, handed to ``shadow`` as well."""
        headers = self.client_headers(request, result, version, base_url)
        exchange.request_id = headers["X-Kinvey-Request-Id"]
        if result.upstream_status is not None:
            # The upstream answer this one is made from: a signup's 201, not the login after it.
            exchange.upstream_status = result.upstream_status
        if exchange.held is not None:
            ask_retry_later(exchange, result.status, headers)
        if replay is not None and shadow is not None:
            return await self._answer_shadowed(request, result, headers, replay, shadow)
        if result.body is None and result.source is not None:
            return await relay(request, result.source, headers, result.status, self.body_timeout)
        response = await write_buffered(request, result.status, headers, result.body or b"")
        return response, body_bytes(request, response)

    async def _answer_shadowed(
        self,
        request: web.BaseRequest,
        result: ResponseInfo,
        headers: CIMultiDict[str],
        replay: Replay,
        shadow: ShadowRunner,
    ) -> Answer:
        """Answer exactly as otherwise, keeping a bounded copy of what the client got; then
        hand it to the shadow comparison (which runs in the background)."""
        seen = CIMultiDict(headers)
        tee = Tee(shadow.config.max_body_bytes)
        if result.body is None and result.source is not None:
            answered = await relay(
                request, result.source, headers, result.status, self.body_timeout, tee
            )
        else:
            tee.add(result.body or b"")
            response = await write_buffered(request, result.status, headers, result.body or b"")
            answered = response, body_bytes(request, response)
        if tee.overflowed:
            shadow.skipped(replay.route.name, replay.client_version)
        else:
            shadow.submit(replay, Captured(result.status, seen, b"".join(tee.chunks)))
        return answered

    def client_headers(
        self, request: web.BaseRequest, result: ResponseInfo, version: int | None, base_url: str
    ) -> CIMultiDict[str]:
        """The answer's headers as the client gets them: its version (none for a preflight,
        which asked for none), a request id, and a ``Location`` that points at the gateway
        instead of the upstream."""
        headers = result.headers
        if version is not None:
            headers["X-Kinvey-API-Version"] = _VERSION_TEXT[version]
        if "X-Kinvey-Request-Id" not in headers:
            headers["X-Kinvey-Request-Id"] = new_request_id()
        location = headers.get("Location")
        if location is not None:
            public_base = self.public_base(request)
            headers["Location"] = rewrite_location(location, base_url, public_base)
        return headers

    def public_base(self, request: web.BaseRequest) -> str:
        return self.public_base_url or f"{request.scheme}://{request.host}"


def ask_retry_later(exchange: Exchange, status: int, headers: CIMultiDict[str]) -> None:
    """A request refused for lack of buffer budget may succeed in a moment: say when."""
    if status == 503 and exchange.held is not None and exchange.held.exhausted:
        headers["Retry-After"] = RETRY_AFTER_SECONDS


def error_answer(
    request: web.BaseRequest,
    exchange: Exchange,
    error: KinveyError,
    echo: int | None,
    client_version: int | None = None,
) -> Answer:
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
