"""A programmable fake upstream (a real aiohttp app): echoes what it received, records it."""

from __future__ import annotations

import asyncio
import gzip
import json
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Seen:
    method: str
    raw_path: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class EchoUpstream:
    seen: list[Seen] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        last = self.seen[-1]
        values = [v for k, v in last.headers if k.lower() == name.lower()]
        return values[0] if values else None

    async def echo(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(
            Seen(request.method, request.raw_path, list(request.headers.items()), body)
        )
        payload = {"method": request.method, "raw_path": request.raw_path, "body_length": len(body)}
        return web.json_response(payload, headers={"X-Kinvey-API-Version": "6"})

    async def cookies(self, request: web.Request) -> web.StreamResponse:
        response = web.Response(text="ok")
        response.headers.add("Set-Cookie", "a=1; Path=/")
        response.headers.add("Set-Cookie", "b=2; Path=/")
        response.headers["Connection"] = "X-Secret-Hop"
        response.headers["X-Secret-Hop"] = "must not reach the client"
        response.headers["Keep-Alive"] = "timeout=5"
        return response

    async def gzipped(self, request: web.Request) -> web.StreamResponse:
        raw = gzip.compress(json.dumps({"hello": "world" * 50}).encode(), mtime=0)
        return web.Response(
            body=raw, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    async def no_content(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=204)

    async def redirect(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": "http://127.0.0.2:9/elsewhere"})

    async def slow(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(float(request.query.get("s", "5")))
        return web.Response(text="late")

    async def dies_mid_body(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100000"})
        await response.prepare(request)
        await response.write(b"x" * 1000)
        await asyncio.sleep(0.05)
        assert request.transport is not None
        request.transport.abort()
        return response

    async def sink(self, request: web.Request) -> web.StreamResponse:
        size = 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
        return web.json_response({"received": size})

    async def source(self, request: web.Request) -> web.StreamResponse:
        total = int(request.query["bytes"])
        response = web.StreamResponse(headers={"Content-Length": str(total)})
        await response.prepare(request)
        block = b"k" * (1 << 20)
        left = total
        while left > 0:
            await response.write(block[: min(left, len(block))])
            left -= len(block)
        await response.write_eof()
        return response

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 40)
        app.router.add_route("*", "/fake/cookies", self.cookies)
        app.router.add_route("*", "/fake/gzip", self.gzipped)
        app.router.add_route("*", "/fake/204", self.no_content)
        app.router.add_route("*", "/fake/redirect", self.redirect)
        app.router.add_route("*", "/fake/slow", self.slow)
        app.router.add_route("*", "/fake/dies", self.dies_mid_body)
        app.router.add_route("*", "/fake/sink", self.sink)
        app.router.add_route("GET", "/fake/source", self.source)
        app.router.add_route("*", "/{tail:.*}", self.echo)
        return app
