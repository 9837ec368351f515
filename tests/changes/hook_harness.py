"""Run one request through the real change bundle with a scripted upstream, and a tiny client.

``Harness`` builds a RequestInfo the way the proxy does (settings, app policy, services,
metrics recorder), plans it with ``BUNDLE.plan(client, upstream, ...)`` and runs it against an
async function standing in for the upstream, recording every request that reached it.
``KinveyClient`` calls a real gateway over HTTP.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.changes import BUNDLE
from gateway.kinvey.routes import match
from gateway.services import build_services
from gateway.settings import load_settings
from gateway.versioning import RequestInfo, ResponseInfo
from gateway.versioning.context import ExchangeContext
from gateway.versioning.pipeline import run_plan
from tests.conftest import APP_KEY, APP_SECRET

Upstream = Callable[[RequestInfo], Awaitable[ResponseInfo]]
StartEmulator = Callable[..., Awaitable[str]]
_UNSET: Any = object()


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


APP_AUTH = basic(APP_KEY, APP_SECRET)


@dataclass
class Recorder:
    """Stands in for Metrics; keeps what the changes counted."""

    applied: list[tuple[str, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    auth: list[tuple[str, str, str]] = field(default_factory=list)
    gateway_errors: list[str] = field(default_factory=list)

    def translation_applied(self, change: str, direction: str) -> None:
        self.applied.append((change, direction))

    def translation_failed(self, change: str) -> None:
        self.failed.append(change)

    def auth_exchange(self, kind: str, result: str, cache: str) -> None:
        self.auth.append((kind, result, cache))

    def gateway_error(self, reason: str) -> None:
        self.gateway_errors.append(reason)


@dataclass
class Seen:
    method: str
    raw_path: str
    headers: CIMultiDict[str]
    body: bytes | None


class Harness:
    """One gateway's worth of services and settings; ``run`` sends a request through BUNDLE."""

    def __init__(self, *, app_secret: str | None = APP_SECRET, **overrides: Any) -> None:
        environ = {f"KINVEY_GATEWAY_APP_SECRET_{APP_KEY}": app_secret} if app_secret else {}
        self.settings = load_settings(
            None, environ, {k.replace("__", "."): v for k, v in overrides.items()}
        )
        self.metrics = Recorder()
        self.services, _ = build_services(self.settings, self.metrics)
        self.seen: list[Seen] = []

    def request(
        self,
        method: str,
        path: str,
        client: int,
        upstream: int,
        *,
        body: Any = _UNSET,
        raw_body: bytes | None = b"",
        headers: dict[str, str] | None = None,
        stream: Any = None,
    ) -> RequestInfo:
        route = match(path)
        context = ExchangeContext(
            self.settings,
            self.settings.app(route.app_key),
            "http://gw",
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
            body=raw_body,
            stream=stream,
        )
        if body is not _UNSET:
            info.body = json.dumps(body).encode()
            info.headers["Content-Type"] = "application/json"
        return info

    def recording(self, upstream: Upstream) -> Upstream:
        async def send(request: RequestInfo) -> ResponseInfo:
            self.seen.append(
                Seen(request.method, request.raw_path, request.headers.copy(), request.body)
            )
            return await upstream(request)

        return send

    async def run(self, request: RequestInfo, upstream: Upstream) -> ResponseInfo:
        plan = BUNDLE.plan(
            request.client_version, request.upstream_version, request.method, request.route.name
        )
        response = await run_plan(plan, request, self.recording(upstream))
        await response.load()
        return response


def json_answer(status: int, value: Any, **headers: str) -> ResponseInfo:
    response = ResponseInfo.from_json(status, value)
    for name, header in headers.items():
        response.headers[name.replace("_", "-")] = header
    return response


def error_answer(name: str, status: int, debug: str = "") -> ResponseInfo:
    return json_answer(status, {"error": name, "description": f"{name} text", "debug": debug})


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


class KinveyClient:
    """Calls a real gateway (or emulator) as a Kinvey app at one API version."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, version: int | None) -> None:
        self.session = session
        self.base_url = base_url
        self.version = version

    async def call(
        self,
        method: str,
        path: str,
        *,
        auth: str | None = None,
        body: Any = _UNSET,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        version: int | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        chosen = self.version if version is None else version
        if chosen is not None:
            sent["X-Kinvey-API-Version"] = str(chosen)
        if auth is not None:
            sent["Authorization"] = auth
        if body is not _UNSET:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        async with self.session.request(
            method, self.base_url + path, data=data, headers=sent, allow_redirects=False
        ) as response:
            return Reply(response.status, response.headers, await response.read())

    async def signup(self, username: str, password: str, **fields: Any) -> Reply:
        body = {"username": username, "password": password, **fields}
        return await self.call("POST", f"/user/{APP_KEY}", auth=APP_AUTH, body=body)

    async def login(self, username: str, password: str) -> Reply:
        body = {"username": username, "password": password}
        return await self.call("POST", f"/user/{APP_KEY}/login", auth=APP_AUTH, body=body)
