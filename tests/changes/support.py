"""Helpers for the version-change tests: requests through BUNDLE's plan, and Kinvey clients.

Unit cases build a ``RequestInfo`` and run it through ``BUNDLE.plan(N, M, method, route)``
against a function standing in for the upstream. ``Harness`` gives the request one gateway's
worth of settings (the test app's secret, any overrides), services and recorded metrics, and
records every request that reached the upstream; ``make_request`` gives a bare context (no app
configured, only the services a test passes). Bodies arrive as in production: a request body
is a stream, loaded only when the plan declares it reads it, so a hook that reads a body it
did not declare fails here as it would in the gateway. End-to-end cases call a real gateway in
front of the real emulator with ``tests.support.kinvey_client.KinveyClient``, or ``AppClient`` here,
which also signs up and logs in as the test app.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from multidict import CIMultiDict

from gateway.changes import BUNDLE
from gateway.exchange import read_request_body
from gateway.kinvey.routes import match
from gateway.services import build_services
from gateway.settings import Settings, load_settings
from gateway.versioning import RequestInfo, ResponseInfo
from gateway.versioning.bundle import Plan, VersionBundle
from gateway.versioning.context import ExchangeContext, Services
from gateway.versioning.pipeline import run_plan
from tests.conftest import APP_KEY, APP_SECRET, MASTER_SECRET, RunningGateway
from tests.support.kinvey_client import UNSET, KinveyClient, Reply, basic

Upstream = Callable[[RequestInfo], Awaitable[ResponseInfo]]
StartEmulator = Callable[..., Awaitable[str]]
StartGatewayOnEmulator = Callable[..., Awaitable[RunningGateway]]  # see conftest.py

APP_AUTH = basic(APP_KEY, APP_SECRET)
MASTER_AUTH = basic(APP_KEY, MASTER_SECRET)


@dataclass
class RecordingMetrics:
    """Stands in for the gateway's metrics; remembers what the engine and services reported."""

    applied: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    auth: list[tuple[str, str, str]] = field(default_factory=list)

    def translation_applied(self, change: str, direction: str) -> None:
        self.applied.append((change, direction))

    def translation_refused(self, change: str, error: str) -> None:
        self.refused.append((change, error))

    def translation_failed(self, change: str) -> None:
        self.failed.append(change)

    def auth_exchange(self, kind: str, result: str, cache: str) -> None:
        self.auth.append((kind, result, cache))


@dataclass
class Seen:
    """A request as it reached the upstream (headers copied: later changes cannot alter it)."""

    method: str
    raw_path: str
    headers: CIMultiDict[str]
    body: bytes  # b"": none

    @classmethod
    def of(cls, request: RequestInfo) -> Seen:
        return cls(request.method, request.raw_path, request.headers.copy(), request.body or b"")


async def one_chunk(body: bytes) -> AsyncIterator[bytes]:
    """A client body stream, readable once (as aiohttp's is)."""
    yield body


@dataclass
class FakeUpstream:
    """Answers with ``answer(request)`` (a response, or an awaitable one) and records requests.

    A body still streaming is read here, as the upstream would receive it; ``answer`` gets a
    copy holding those bytes, so the hooks' own request stays as the gateway holds it.
    """

    answer: Callable[[RequestInfo], ResponseInfo | Awaitable[ResponseInfo]]
    seen: list[Seen] = field(default_factory=list)

    async def __call__(self, request: RequestInfo) -> ResponseInfo:
        if request.body is None and request.stream is not None:
            received = copy.copy(request)
            received.body = b"".join([chunk async for chunk in request.stream])
            request = received
        self.seen.append(Seen.of(request))
        answer = self.answer(request)
        return answer if isinstance(answer, ResponseInfo) else await answer


class Harness:
    """One gateway's settings, services and metrics; ``run`` sends a request through BUNDLE.

    ``app_secret`` and ``overrides`` (``section__key=value``) make the settings unless
    ``settings`` is given; ``services`` are built from the settings unless given.
    """

    def __init__(
        self,
        *,
        app_secret: str | None = APP_SECRET,
        settings: Settings | None = None,
        services: Services | None = None,
        public_base_url: str = "http://gw",
        **overrides: Any,
    ) -> None:
        if settings is None:
            environ = {f"KINVEY_GATEWAY_APP_SECRET_{APP_KEY}": app_secret} if app_secret else {}
            dotted = {key.replace("__", "."): value for key, value in overrides.items()}
            settings = load_settings(None, environ, dotted)
        self.settings = settings
        self.metrics = RecordingMetrics()
        self.services = services if services is not None else build_services(settings, self.metrics)
        self.public_base_url = public_base_url
        self.seen: list[Seen] = []

    def request(
        self,
        method: str,
        path: str,
        client: int,
        upstream: int,
        *,
        body: Any = UNSET,
        raw_body: bytes = b"",
        headers: dict[str, str] | None = None,
        stream: Any = None,
    ) -> RequestInfo:
        """``body`` is sent as JSON; ``raw_body`` as it is; either streams (``stream`` given:
        that stream, with nothing loaded)."""
        route = match(path)
        context = ExchangeContext(
            self.settings,
            self.settings.app(route.app_key),
            self.public_base_url,
            self.services,
            self.metrics,
        )
        info = RequestInfo(
            method=method,
            raw_path=path,
            route=route,
            headers=CIMultiDict(headers or {}),
            client_version=client,
            upstream_version=upstream,
            context=context,
            stream=stream,
        )
        if body is not UNSET:
            raw_body = json.dumps(body).encode()
            info.headers["Content-Type"] = "application/json"
        if raw_body and stream is None:
            info.stream = one_chunk(raw_body)
        return info

    async def run(self, request: RequestInfo, upstream: Upstream) -> ResponseInfo:
        """``run``, recording what reached the upstream in ``self.seen``."""
        return await run(request, FakeUpstream(upstream, self.seen))


def make_request(
    method: str,
    raw_path: str,
    client: int,
    upstream: int,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    services: Services | None = None,
    public_base_url: str = "http://gateway.example",
) -> RequestInfo:
    """A request in a bare context: default settings, no app, only ``services``, own metrics."""
    harness = Harness(
        settings=load_settings(None, {}),
        services=services or Services(),
        public_base_url=public_base_url,
    )
    return harness.request(method, raw_path, client, upstream, raw_body=body, headers=headers)


def metrics_of(request: RequestInfo) -> RecordingMetrics:
    metrics = request.context.metrics
    assert isinstance(metrics, RecordingMetrics)
    return metrics


def plan_for(request: RequestInfo, bundle: VersionBundle = BUNDLE) -> Plan:
    return bundle.plan(
        request.client_version, request.upstream_version, request.method, request.route.name
    )


def _uncharged(size: int) -> None:
    """The harness has no buffer budget to charge."""


async def run(
    request: RequestInfo, upstream: Upstream, bundle: VersionBundle = BUNDLE
) -> ResponseInfo:
    """The request through every change between its client and upstream versions; its body
    is loaded first only when the plan reads it, as the gateway does."""
    plan = plan_for(request, bundle)
    if plan.reads_request_body and request.stream is not None:
        limit = cast(Settings, request.context.settings).limits.max_buffered_body_bytes
        coding = ", ".join(request.headers.popall("Content-Encoding", ())) or None
        request.body = await read_request_body(request.stream, None, coding, limit, _uncharged)
    response = await run_plan(plan, request, upstream)
    await response.load()
    return response


async def assert_untouched(
    method: str,
    path: str,
    client: int,
    upstream: int,
    *,
    body: Any = UNSET,
    status: int = 200,
    answer: Any = None,
    harness: Harness | None = None,
) -> None:
    """No change between ``client`` and ``upstream`` acts on this exchange: the upstream gets
    the request as sent (``body`` as JSON, streamed: nothing buffered it), the client the answer
    as given (JSON, or none)."""
    harness = harness or Harness()
    request = harness.request(method, path, client, upstream, body=body)
    sent = (
        method,
        path,
        b"" if body is UNSET else json.dumps(body).encode(),
        request.headers.copy(),
    )
    response = await harness.run(request, answering(status, answer))
    assert request.body is None, "the body was buffered though no change reads it"
    assert [(seen.method, seen.raw_path, seen.body, seen.headers) for seen in harness.seen] == [
        sent
    ]
    given = b"" if answer is None else json_answer(status, answer).body
    assert (response.status, response.body) == (status, given)


def json_answer(status: int, value: Any, **headers: str) -> ResponseInfo:
    """A JSON response; ``Header_Name="v"`` keyword arguments set ``Header-Name: v``."""
    response = ResponseInfo.from_json(status, value)
    for name, header in headers.items():
        response.headers[name.replace("_", "-")] = header
    return response


def error_answer(name: str, status: int, debug: str = "") -> ResponseInfo:
    return json_answer(status, {"error": name, "description": f"{name} text", "debug": debug})


def answering(status: int, body: Any = None, headers: dict[str, str] | None = None) -> FakeUpstream:
    """An upstream answering every request alike: ``body`` bytes as they are, else JSON."""

    def answer(_: RequestInfo) -> ResponseInfo:
        if isinstance(body, bytes):
            return ResponseInfo(status, CIMultiDict(headers or {}), body)
        if body is None:
            return ResponseInfo(status, CIMultiDict(headers or {}), b"")
        response = json_answer(status, body)
        response.headers.extend(headers or {})
        return response

    return FakeUpstream(answer)


class AppClient(KinveyClient):
    """A KinveyClient that also signs up and logs in with the test app's credentials."""

    async def signup(self, username: str, password: str, **fields: Any) -> Reply:
        body = {"username": username, "password": password, **fields}
        return await self.call("POST", f"/user/{APP_KEY}", auth=APP_AUTH, body=body)

    async def login(self, username: str, password: str) -> Reply:
        body = {"username": username, "password": password}
        return await self.call("POST", f"/user/{APP_KEY}/login", auth=APP_AUTH, body=body)
