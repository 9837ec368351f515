"""The ``gateway.file`` route: the signed ``/_gateway/files/<token>`` URLs old clients were given.

- ``PUT`` with an upload ticket: the client's bytes are streamed (never buffered) to the
  storage upload URL with the headers it requires added; the storage's answer is relayed.
  Storage is not the upstream: the upload goes through the storage client (system trust
  store, no upstream client certificate, ``storage.*`` timeouts) and is counted as
  ``kgw_storage_requests_total{kind="upload"}``.
- ``DELETE`` with a removal ticket: the file is deleted with the Files API
  (``DELETE /blob/:appKey/:name``) as a v3 client would, through every version change from v3
  to the upstream's pin, authorized with the app key and app secret from the gateway's config
  (the URL carries no credentials), and the old client gets the old storage's ``204`` or the
  error in its own shape.

A token that is forged, altered, expired or used with another method is refused with ``403
InsufficientCredentials`` (structured body: the client's version is sealed in the token, so
it is unknown), and nothing is sent anywhere.
"""

from __future__ import annotations

import os
import time
from typing import Any

from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from gateway.exchange import read_upstream
from gateway.http import headers as header_rules
from gateway.http.expect import send_continue
from gateway.http.streaming import relay, write_buffered
from gateway.http.upstream import UpstreamClient, UpstreamError, UpstreamResponse
from gateway.kinvey import cors, routes
from gateway.kinvey.auth import basic_header
from gateway.kinvey.errors import KinveyError, is_error_body, to_v0_error_body
from gateway.kinvey.file_tickets import RemovalTicket, UploadTicket, redeem, token_of
from gateway.kinvey.json_body import BodyDecodeError, decode_json, encode_json
from gateway.kinvey.signing import SignatureRefused, UrlSigner
from gateway.settings import Settings
from gateway.versioning.bundle import VersionBundle
from gateway.versioning.context import ExchangeContext, Services
from gateway.versioning.model import RequestInfo, ResponseInfo
from gateway.versioning.pipeline import run_plan

FILES_API_VERSION = 3  # the removal is the call a v3 client makes
# What an old client's PUT may say about its bytes; nothing else (its Kinvey credentials
# above all) is passed on to the storage.
_UPLOAD_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Content-Encoding",
    "Content-MD5",
    "Content-Range",
    "Content-Disposition",
    "Cache-Control",
)
_REFUSALS = {
    "invalid": "This gateway URL is not valid",
    "expired": "This gateway URL has expired",
    "wrong_method": "This gateway URL is not valid for this request method",
}


class GatewayFiles:
    def __init__(
        self,
        settings: Settings,
        metrics: Any,
        services: Services,
        upstream: UpstreamClient,
        signer: UrlSigner,
        bundle: VersionBundle,
        storage: UpstreamClient | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.services = services
        self.upstream = upstream
        self.storage = storage or upstream
        self.signer = signer
        self.bundle = bundle
        self.max_body = int(settings["limits.max_buffered_body_bytes"])

    async def __call__(self, request: web.BaseRequest, exchange: Any) -> web.StreamResponse:
        exchange.request_id = os.urandom(8).hex()
        try:
            ticket = redeem(self.signer, token_of(request.raw_path), request.method)
        except SignatureRefused as refused:
            self.metrics.gateway_error("bad_request")
            error = KinveyError(
                "InsufficientCredentials", debug=_REFUSALS[refused.reason], status=403
            )
            return await self._error(request, exchange, error, None)
        exchange.client_version = ticket.client_version
        if isinstance(ticket, UploadTicket):
            return await self._upload(request, exchange, ticket)
        return await self._remove(request, exchange, ticket)

    async def _upload(
        self, request: web.BaseRequest, exchange: Any, ticket: UploadTicket
    ) -> web.StreamResponse:
        storage = URL(ticket.storage_url, encoded=True)
        if not storage.absolute or storage.scheme not in ("http", "https"):
            error = KinveyError(
                "KinveyInternalErrorStop", debug="the sealed upload URL is unusable"
            )
            return await self._error(request, exchange, error, ticket.client_version)
        headers: CIMultiDict[str] = CIMultiDict()
        for name in _UPLOAD_HEADERS:
            for value in request.headers.getall(name, ()):
                headers.add(name, value)
        headers.update(ticket.required_headers)
        body = request.content if request.body_exists else None
        if body is not None:
            await send_continue(request)
        started = time.monotonic()
        try:
            opened: UpstreamResponse | KinveyError = await self.storage.send(
                str(storage.origin()), "PUT", storage.raw_path_qs, headers, body
            )
        except UpstreamError as exc:
            exchange.outcome = exc.outcome
            opened = KinveyError("KinveyInternalErrorRetry", status=exc.status, debug=exc.debug)
        else:
            exchange.opened.append(opened)
            exchange.upstream_status = opened.status
        exchange.upstream_duration = time.monotonic() - started
        self.metrics.storage_finished("upload", exchange.outcome)
        if isinstance(opened, KinveyError):
            return await self._error(request, exchange, opened, ticket.client_version)
        answer_headers = header_rules.client_response_headers(opened.headers)
        answer_headers["X-Kinvey-Request-Id"] = exchange.request_id
        cors.add_answer_headers(answer_headers)  # the URL is the gateway's: browsers ask it
        response, exchange.response_bytes = await relay(
            request, opened, answer_headers, opened.status
        )
        return response

    async def _remove(
        self, request: web.BaseRequest, exchange: Any, ticket: RemovalTicket
    ) -> web.StreamResponse:
        app = self.settings.app(ticket.app_key)
        pin = (app.upstream_api_version if app else None) or self.settings.upstream_api_version
        base_url: str = (app.upstream_url if app else None) or self.settings["upstream.url"]
        public_base = self.settings["public_base_url"] or f"{request.scheme}://{request.host}"
        if app is None or not app.app_secret:  # removed from the config since it was issued
            error = KinveyError("KinveyInternalErrorStop", debug="no app secret for this app")
            return await self._error(request, exchange, error, ticket.client_version)
        context = ExchangeContext(
            self.settings, app, public_base, self.services, self.metrics, exchange.applied
        )
        headers: CIMultiDict[str] = CIMultiDict()
        # The URL holds no credentials of the client's: the app's own delete the file.
        headers["Authorization"] = basic_header(ticket.app_key, app.app_secret)
        info = RequestInfo(
            method="DELETE",
            raw_path=ticket.upstream_path,
            route=routes.match(ticket.upstream_path),
            headers=headers,
            client_version=FILES_API_VERSION,
            upstream_version=pin,
            context=context,
            body=b"",
        )

        async def send(outgoing: RequestInfo) -> ResponseInfo:
            return await self._send_kinvey(request, exchange, outgoing, base_url)

        plan = self.bundle.plan(FILES_API_VERSION, pin, "DELETE", info.route.name)
        result = await (send(info) if plan.is_passthrough else run_plan(plan, info, send))
        return await self._old_storage_answer(request, exchange, result, ticket.client_version)

    async def _old_storage_answer(
        self, request: web.BaseRequest, exchange: Any, result: ResponseInfo, client_version: int
    ) -> web.StreamResponse:
        headers: CIMultiDict[str] = CIMultiDict()
        headers["X-Kinvey-API-Version"] = str(client_version)
        headers["X-Kinvey-Request-Id"] = result.headers.get(
            "X-Kinvey-Request-Id", exchange.request_id
        )
        exchange.request_id = headers["X-Kinvey-Request-Id"]
        cors.add_answer_headers(headers)
        if 200 <= result.status < 300:
            return await write_buffered(request, 204, headers, b"")
        try:
            body = await result.load()
        except KinveyError as error:
            return await self._error(request, exchange, error, client_version)
        v0_body = (
            _v0_error(body, result.headers.get("Content-Encoding")) if client_version == 0 else None
        )
        if v0_body is not None:
            body = v0_body
            headers["Content-Type"] = "application/json; charset=utf-8"
        else:
            for name in ("Content-Type", "Content-Encoding"):
                if name in result.headers:
                    headers[name] = result.headers[name]
        return await write_buffered(request, result.status, headers, body)

    async def _send_kinvey(
        self, request: web.BaseRequest, exchange: Any, info: RequestInfo, base_url: str
    ) -> ResponseInfo:
        headers = header_rules.upstream_request_headers(
            info.headers,
            upstream_host=URL(base_url).raw_authority,
            peer=request.remote,
            scheme=request.scheme,
            original_host=request.headers.get("Host"),
            api_version=info.upstream_version,
        )
        body = info.body or b""
        headers["Content-Length"] = str(len(body))
        opened = await self._open(exchange, base_url, info.method, info.raw_path, headers, body)
        if isinstance(opened, KinveyError):
            return ResponseInfo.from_error(opened)
        return ResponseInfo(
            opened.status,
            header_rules.client_response_headers(opened.headers),
            None,
            loader=lambda: read_upstream(opened, self.max_body),
            upstream_status=opened.status,
            source=opened,
        )

    async def _open(
        self,
        exchange: Any,
        base_url: str,
        method: str,
        raw_path: str,
        headers: CIMultiDict[str],
        body: Any,
    ) -> UpstreamResponse | KinveyError:
        started = time.monotonic()
        try:
            opened = await self.upstream.send(base_url, method, raw_path, headers, body)
        except UpstreamError as exc:
            exchange.outcome = exc.outcome
            self._finished(exchange, None, exc.outcome, started)
            self.metrics.gateway_error(
                "upstream_timeout" if exc.outcome == "timeout" else "upstream_unreachable"
            )
            return KinveyError("KinveyInternalErrorRetry", status=exc.status, debug=exc.debug)
        exchange.opened.append(opened)
        exchange.upstream_status = opened.status
        self._finished(exchange, opened.status, "ok", started)
        return opened

    def _finished(self, exchange: Any, status: int | None, outcome: str, started: float) -> None:
        exchange.upstream_duration = time.monotonic() - started
        self.metrics.upstream_finished(
            route=exchange.route,
            status=status,
            outcome=outcome,
            duration=exchange.upstream_duration,
        )

    async def _error(
        self,
        request: web.BaseRequest,
        exchange: Any,
        error: KinveyError,
        client_version: int | None,
    ) -> web.StreamResponse:
        headers: CIMultiDict[str] = CIMultiDict()
        headers["Content-Type"] = "application/json; charset=utf-8"
        headers["X-Kinvey-Request-Id"] = exchange.request_id
        if client_version is not None:
            headers["X-Kinvey-API-Version"] = str(client_version)
        cors.add_answer_headers(headers)
        return await write_buffered(
            request, error.status_code, headers, error.body_bytes(client_version)
        )


def _v0_error(body: bytes, content_encoding: str | None) -> bytes | None:
    """The v0 shape of a Kinvey error body; None when the body is no Kinvey error."""
    try:
        parsed = decode_json(body, content_encoding)
    except BodyDecodeError:
        return None
    return encode_json(to_v0_error_body(parsed)) if is_error_body(parsed) else None
