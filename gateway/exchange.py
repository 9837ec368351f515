"""Per-request bookkeeping and the small pure helpers of the request handler (proxy.py)."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from yarl import URL

from gateway.http.upstream import UpstreamResponse, classify
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
        "identity",
        "opened",
        "outcome",
        "refusal",
        "request_id",
        "response_bytes",
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
        # body bytes of an answer a local handler streamed (None: count the returned response)
        self.response_bytes: int | None = None
        self.applied: list[str] = []
        self.opened: list[UpstreamResponse] = []
        self.identity: ClientIdentity | None = None  # app release and SDK, once read
        self.refusal: str | None = None  # release_policy verdict: refused / report_only


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


async def read_bounded(
    stream: AsyncIterator[bytes], content_length: int | None, limit: int
) -> bytes:
    if content_length is not None and content_length > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def read_upstream(upstream: UpstreamResponse, limit: int) -> bytes:
    content = upstream.content
    if content.is_eof() and content.exception() is None and content.total_bytes <= limit:
        return content.read_nowait()  # the whole body came with the head: no reading loop
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in content.iter_any():
            size += len(chunk)
            if size > limit:
                raise KinveyError(
                    "KinveyInternalErrorRetry",
                    status=502,
                    debug="the upstream answer is too large to translate",
                )
            chunks.append(chunk)
    except (TimeoutError, aiohttp.ClientError) as exc:
        failure = classify(exc)
        raise KinveyError(
            "KinveyInternalErrorRetry", status=failure.status, debug=failure.debug
        ) from None
    return b"".join(chunks)
