"""Per-request bookkeeping and the small pure helpers of the request handler (proxy.py)."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from gateway.http.budget import BudgetExhausted, Held
from gateway.http.upstream import UpstreamResponse, classify
from gateway.kinvey import codings, cors
from gateway.kinvey.client_identity import ClientIdentity
from gateway.kinvey.errors import KinveyError

_REQUEST_IDS = itertools.count(1)
_ID_PREFIX = os.urandom(4).hex()


class BodyTooLarge(Exception):
    pass


class Exchange:
    """Per-request bookkeeping for metrics and the access log."""

    __slots__ = (
        "applied",
        "client_version",
        "held",
        "identity",
        "opened",
        "outcome",
        "refusal",
        "request_id",
        "route",
        "upstream_duration",
        "upstream_status",
    )

    def __init__(self) -> None:
        self.route = "other"
        self.client_version: int | None = None
        self.upstream_status: int | None = None
        self.upstream_duration: float | None = None
        self.outcome = "ok"
        self.request_id = ""
        self.applied: list[str] = []
        self.opened: list[UpstreamResponse] = []
        self.identity: ClientIdentity | None = None  # app release and SDK, once read
        self.refusal: str | None = None  # release_policy verdict: refused / report_only
        self.held: Held | None = None  # the share of the buffer budget, once one is charged

    def release(self) -> None:
        """Give back what the request holds: upstream answers opened, its buffer budget."""
        for opened in self.opened:
            opened.release()
        if self.held is not None:
            self.held.release()


def origin_form(request: web.BaseRequest) -> str | None:
    """The path and query to forward; an absolute-form target never picks the host."""
    target = request.raw_path
    if target.startswith("/"):
        return target
    if target.startswith(("http://", "https://")):
        url = URL(target, encoded=True)
        return url.raw_path_qs if url.raw_path.startswith("/") else None
    return None


def rewrite_location(location: str, upstream_base: str, public_base: str) -> str:
    if location.startswith(upstream_base + "/") or location == upstream_base:
        return public_base + location[len(upstream_base) :]
    return location


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_REQUEST_IDS):012x}"


def loggable_path(path: str, route: str) -> str:
    # A gateway file URL's token is a bearer capability (upload or delete one file): never log it.
    return "/_gateway/files/<redacted>" if route == "gateway.file" else path


Charge = Callable[[int], None]


async def read_bounded(
    stream: AsyncIterator[bytes], content_length: int | None, limit: int, charge: Charge
) -> bytes:
    if content_length is not None and content_length > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        charge(len(chunk))
        chunks.append(chunk)
    return b"".join(chunks)


async def decode_charged(
    body: bytes, content_encoding: str | None, limit: int, charge: Charge
) -> bytes:
    """``codings.decode``, each piece charged to the budget, other requests served between
    pieces: fifty bombs at once must not stall everyone else for their whole decoding."""
    if not body:
        return body  # nothing to undo (a 204, a HEAD answer, an empty upload)
    for coding in reversed(codings.codings(content_encoding)):
        pieces: list[bytes] = []
        for piece in codings.inflate(body, coding, limit):
            charge(len(piece))
            pieces.append(piece)
            await asyncio.sleep(0)
        body = b"".join(pieces)
    return body


def retry_later(exhausted: BudgetExhausted) -> KinveyError:
    return KinveyError("KinveyInternalErrorRetry", status=503, debug=f"{exhausted}; retry later")


async def read_request_body(
    stream: AsyncIterator[bytes],
    content_length: int | None,
    content_encoding: str | None,
    limit: int,
    charge: Charge,
) -> bytes:
    """A body a version change reads: buffered, then decoded once; both bounded by ``limit``
    and charged to the buffer budget. A coding the gateway cannot undo is refused (``415``)
    before a byte is read."""
    try:
        codings.check_decodable(content_encoding)
        body = await read_bounded(stream, content_length, limit, charge)
        return await decode_charged(body, content_encoding, limit, charge)
    except BodyTooLarge:
        debug = f"the request body is larger than {limit} bytes"
    except codings.DecodedTooLarge:
        debug = f"the decoded request body is larger than {limit} bytes"
    except codings.UnsupportedCoding as exc:
        raise KinveyError(
            "BadRequest", status=415, debug=f"{exc}: send gzip, deflate or identity"
        ) from None
    except codings.CodingError as exc:
        raise KinveyError("BadRequest", debug=str(exc)) from None
    except BudgetExhausted as exc:
        raise retry_later(exc) from None
    raise KinveyError("BadRequest", status=413, debug=debug)


def _uncharged(size: int) -> None:
    pass


async def read_upstream(
    upstream: UpstreamResponse, limit: int, charge: Charge = _uncharged
) -> bytes:
    content = upstream.content
    if content.is_eof() and content.exception() is None and content.total_bytes <= limit:
        charge(content.total_bytes)
        return content.read_nowait()  # the whole body came with the head: no reading loop
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in content.iter_any():
            size += len(chunk)
            if size > limit:
                raise _too_large_to_translate()
            charge(len(chunk))
            chunks.append(chunk)
    except (TimeoutError, aiohttp.ClientError) as exc:
        failure = classify(exc)
        raise KinveyError(
            "KinveyInternalErrorRetry", status=failure.status, debug=failure.debug
        ) from None
    return b"".join(chunks)


def _too_large_to_translate() -> KinveyError:
    return KinveyError(
        "KinveyInternalErrorRetry",
        status=502,
        debug="the upstream answer is too large to translate",
    )


async def read_translatable(
    upstream: UpstreamResponse, headers: CIMultiDict[str], limit: int, charge: Charge
) -> bytes:
    """An upstream answer a version change reads: buffered and its content coding undone once
    (``headers`` lose ``Content-Encoding``). The gateway offered only codings it decodes; an
    answer in another one is a ``502``, never relayed untranslated."""
    try:
        body = await read_upstream(upstream, limit, charge)
        coding = headers.get("Content-Encoding")
        if coding is None:
            return body
        decoded = await decode_charged(body, coding, limit, charge)
    except BudgetExhausted as exc:
        raise retry_later(exc) from None
    except codings.DecodedTooLarge:
        raise _too_large_to_translate() from None
    except codings.CodingError as exc:
        raise KinveyError(
            "KinveyInternalErrorRetry", status=502, debug=f"the upstream answer: {exc}"
        ) from None
    for name in ("Content-Encoding", "Content-Length"):
        headers.popall(name, None)
    return decoded


def malformed_request_answer(status: int, reason: str | None) -> web.Response:
    """The answer to a request the listener's parser refused (``reason``), or to a failure
    before the handler ran (``None``): Kinvey's error shape, readable cross-origin."""
    if reason is None:
        error = KinveyError("KinveyInternalErrorStop", status=status)
    else:
        error = KinveyError("BadRequest", status=status, debug=reason)
    response = web.Response(
        status=error.status_code,
        body=error.body_bytes(),
        content_type="application/json",
        charset="utf-8",
    )
    cors.add_answer_headers(response.headers)
    return response
