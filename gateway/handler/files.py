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
it is unknown), and nothing is sent anywhere. The route takes the handler's one path: the
app's target (``policy``), the upstream call and the error answers are the proxy's own.
"""

from __future__ import annotations

import time

from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from gateway.exchange import Exchange, new_request_id
from gateway.handler.answers import Answer, body_bytes, error_answer
from gateway.handler.policy import AppTargets
from gateway.handler.translated import Translation, hooks_request
from gateway.handler.upstream_call import UpstreamCall
from gateway.http import headers as header_rules
from gateway.http.expect import send_continue
from gateway.http.streaming import relay, write_buffered
from gateway.http.upstream import UpstreamClient, UpstreamError
from gateway.kinvey import cors, routes
from gateway.kinvey.auth import basic_header
from gateway.kinvey.errors import KinveyError, for_v0_client
from gateway.kinvey.file_tickets import RemovalTicket, UploadTicket, redeem, token_of
from gateway.kinvey.json_body import BodyDecodeError, decode_json, encode_json
from gateway.kinvey.signing import SignatureRefused, UrlSigner
from gateway.observability.metrics import Metrics
from gateway.versioning.bundle import VersionBundle
from gateway.versioning.context import Services
from gateway.versioning.model import ResponseInfo

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
        targets: AppTargets,
        translation: Translation,
        calls: UpstreamCall,
        metrics: Metrics,
        services: Services,
        bundle: VersionBundle,
        storage: UpstreamClient,
    ) -> None:
        self.targets = targets
        self.translation = translation
        self.calls = calls
        self.metrics = metrics
        self.bundle = bundle
        self.storage = storage
        self.signer = services.get(UrlSigner)

    async def __call__(self, request: web.BaseRequest, exchange: Exchange) -> Answer:
        exchange.request_id = new_request_id()
        try:
            ticket = redeem(self.signer, token_of(request.raw_path), request.method)
        except SignatureRefused as refused:
            self.metrics.gateway_error("bad_request")
            error = KinveyError(
                "InsufficientCredentials", debug=_REFUSALS[refused.reason], status=403
            )
            return error_answer(request, exchange, error, None)
        exchange.client_version = ticket.client_version
        if isinstance(ticket, UploadTicket):
            return await self._upload(request, exchange, ticket)
        return await self._remove(request, exchange, ticket)

    async def _upload(
        self, request: web.BaseRequest, exchange: Exchange, ticket: UploadTicket
    ) -> Answer:
        version = ticket.client_version
        storage = URL(ticket.storage_url, encoded=True)
        if not storage.absolute or storage.scheme not in ("http", "https"):
            error = KinveyError(
                "KinveyInternalErrorStop", debug="the sealed upload URL is unusable"
            )
            return error_answer(request, exchange, error, version, version)
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
            opened = await self.storage.send(
                str(storage.origin()), "PUT", storage.raw_path_qs, headers, body
            )
        except UpstreamError as exc:
            exchange.outcome = exc.outcome
            exchange.upstream_duration = time.monotonic() - started
            self.metrics.storage_finished("upload", exchange.outcome)
            error = KinveyError("KinveyInternalErrorRetry", status=exc.status, debug=exc.debug)
            return error_answer(request, exchange, error, version, version)
        exchange.opened.append(opened)
        exchange.upstream_status = opened.status
        exchange.upstream_duration = time.monotonic() - started
        self.metrics.storage_finished("upload", exchange.outcome)
        answer_headers = header_rules.client_response_headers(opened.headers)
        answer_headers["X-Kinvey-Request-Id"] = exchange.request_id
        cors.add_answer_headers(answer_headers)  # the URL is the gateway's: browsers ask it
        return await relay(request, opened, answer_headers, opened.status)

    async def _remove(
        self, request: web.BaseRequest, exchange: Exchange, ticket: RemovalTicket
    ) -> Answer:
        version = ticket.client_version
        target = self.targets.of(ticket.app_key)
        app = target.app
        if app is None or not app.app_secret:  # removed from the config since it was issued
            error = KinveyError("KinveyInternalErrorStop", debug="no app secret for this app")
            return error_answer(request, exchange, error, version, version)
        headers: CIMultiDict[str] = CIMultiDict()
        # The URL holds no credentials of the client's: the app's own delete the file.
        headers["Authorization"] = basic_header(ticket.app_key, app.app_secret)
        info = hooks_request(
            "DELETE",
            ticket.upstream_path,
            routes.match(ticket.upstream_path),
            headers,
            FILES_API_VERSION,
            target.pin,
            self.translation.context(request, exchange, app),
            body=b"",
        )
        plan = self.bundle.plan(FILES_API_VERSION, target.pin, "DELETE", info.route.name)
        if plan.is_passthrough:
            result: ResponseInfo | KinveyError = await self.calls.send(
                request,
                exchange,
                target.base_url,
                "DELETE",
                info.raw_path,
                headers,
                target.pin,
                b"",
            )
        else:
            result = await self.translation.run(request, exchange, plan, info, target.base_url)
        if isinstance(result, KinveyError):  # a body refused: this request has none
            return error_answer(request, exchange, result, version, version)
        return await self._old_storage_answer(request, exchange, result, version)

    async def _old_storage_answer(
        self,
        request: web.BaseRequest,
        exchange: Exchange,
        result: ResponseInfo,
        client_version: int,
    ) -> Answer:
        headers: CIMultiDict[str] = CIMultiDict()
        headers["X-Kinvey-API-Version"] = str(client_version)
        headers["X-Kinvey-Request-Id"] = result.headers.get(
            "X-Kinvey-Request-Id", exchange.request_id
        )
        exchange.request_id = headers["X-Kinvey-Request-Id"]
        cors.add_answer_headers(headers)
        if 200 <= result.status < 300:
            response = await write_buffered(request, 204, headers, b"")
            return response, body_bytes(request, response)
        try:
            body = await result.load()
        except KinveyError as error:
            return error_answer(request, exchange, error, client_version, client_version)
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
        response = await write_buffered(request, result.status, headers, body)
        return response, body_bytes(request, response)


def _v0_error(body: bytes, content_encoding: str | None) -> bytes | None:
    """The bytes of a Kinvey error body in the v0 shape; None when the body is no Kinvey error."""
    try:
        parsed = decode_json(body, content_encoding)
    except BodyDecodeError:
        return None
    flattened = for_v0_client(parsed)
    return encode_json(flattened) if flattened is not parsed else None
