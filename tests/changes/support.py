"""Helpers for the version-change tests: requests through a plan, and a small Kinvey client.

Unit cases build a ``RequestInfo`` and run it through ``BUNDLE.plan(N, M, method, route)`` with
a small async function standing in for the upstream; end-to-end cases call a real gateway in
front of the real emulator with ``KinveyClient``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from gateway.changes import BUNDLE
from gateway.kinvey.routes import match
from gateway.settings import Settings, load_settings
from gateway.versioning import RequestInfo, ResponseInfo
from gateway.versioning.bundle import Plan
from gateway.versioning.context import ExchangeContext, Services
from gateway.versioning.pipeline import run_plan
from tests.conftest import APP_KEY, APP_SECRET, MASTER_SECRET

Upstream = Callable[[RequestInfo], Awaitable[ResponseInfo]]


class RecordingMetrics:
    """Stands in for the gateway's metrics; remembers what the changes reported."""

    def __init__(self) -> None:
        self.applied: list[tuple[str, str]] = []
        self.failed: list[str] = []
        self.gateway_errors: list[str] = []

    def translation_applied(self, change: str, direction: str) -> None:
        self.applied.append((change, direction))

    def translation_failed(self, change: str) -> None:
        self.failed.append(change)

    def gateway_error(self, reason: str) -> None:
        self.gateway_errors.append(reason)

    def auth_exchange(self, kind: str, result: str, cache: str) -> None:
        pass


def make_request(
    method: str,
    raw_path: str,
    client: int,
    upstream: int,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    services: Services | None = None,
    settings: Settings | None = None,
    public_base_url: str = "http://gateway.example",
) -> RequestInfo:
    context = ExchangeContext(
        settings or load_settings(None, {}),
        None,
        public_base_url,
        services or Services(),
        RecordingMetrics(),
    )
    return RequestInfo(
        method=method,
        raw_path=raw_path,
        route=match(raw_path),
        headers=CIMultiDict(headers or {}),
        client_version=client,
        upstream_version=upstream,
        context=context,
        body=body,
    )


def metrics_of(request: RequestInfo) -> RecordingMetrics:
    metrics = request.context.metrics
    assert isinstance(metrics, RecordingMetrics)
    return metrics


def plan_for(request: RequestInfo) -> Plan:
    return BUNDLE.plan(
        request.client_version, request.upstream_version, request.method, request.route.name
    )


async def run(request: RequestInfo, upstream: Upstream) -> ResponseInfo:
    """The request through every change between its client and upstream versions."""
    response = await run_plan(plan_for(request), request, upstream)
    if response.body is None:
        await response.load()
    return response


@dataclass
class FakeUpstream:
    """Answers with a fixed response (or a function of the request) and records the requests."""

    answer: Callable[[RequestInfo], ResponseInfo]
    seen: list[RequestInfo] = field(default_factory=list)

    async def __call__(self, request: RequestInfo) -> ResponseInfo:
        self.seen.append(request)
        return self.answer(request)


def answering(status: int, body: Any = None, headers: dict[str, str] | None = None) -> FakeUpstream:
    def answer(_: RequestInfo) -> ResponseInfo:
        if isinstance(body, bytes):
            response = ResponseInfo(status, CIMultiDict(headers or {}), body)
        elif body is None:
            response = ResponseInfo(status, CIMultiDict(headers or {}), b"")
        else:
            response = ResponseInfo.from_json(status, body)
            response.headers.extend(headers or {})
        return response

    return FakeUpstream(answer)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


APP_AUTH = basic(APP_KEY, APP_SECRET)
MASTER_AUTH = basic(APP_KEY, MASTER_SECRET)


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


class KinveyClient:
    """Calls a gateway (or any Kinvey backend) as an app at one API version."""

    def __init__(self, base_url: str, version: int | None, auth: str | None = MASTER_AUTH) -> None:
        self.base_url = base_url
        self.version = version
        self.auth = auth

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        absolute: bool = False,
    ) -> Reply:
        sent: dict[str, str] = {}
        if self.version is not None and not absolute:
            sent["X-Kinvey-API-Version"] = str(self.version)
        if self.auth is not None and not absolute:
            sent["Authorization"] = self.auth
        if json_body is not None:
            data = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        url = path if absolute else self.base_url + path
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method,
                URL(url, encoded=True),
                data=data,
                headers=sent,
                allow_redirects=False,
            ) as response,
        ):
            return Reply(response.status, response.headers, await response.read())
