"""The baseline: the smallest honest streaming aiohttp reverse proxy (no versioning, no metrics).

``python -m bench.plain_proxy --upstream http://127.0.0.1:P --listen 127.0.0.1:Q
[--translate-delete]``. With ``--translate-delete`` it answers a v0/v1 client's DELETE that got
``200 {"count": n}`` with ``204`` and no body, as the gateway does, so that case compares like
with like.
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer"}
_HOP_BY_HOP |= {"transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization"}
_REQUEST_DROP = _HOP_BY_HOP | {"host"}


def _forwardable(headers: CIMultiDictProxy[str], drop: set[str]) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in drop)


def _wants_204(request: web.Request, upstream: aiohttp.ClientResponse) -> bool:
    version = request.headers.get("X-Kinvey-API-Version", "")
    return request.method == "DELETE" and upstream.status == 200 and version in ("0", "1")


def make_app(upstream: str, translate_delete: bool) -> web.Application:
    app = web.Application()
    session: dict[str, aiohttp.ClientSession] = {}

    async def open_session(_: web.Application) -> None:
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=15)
        session["s"] = aiohttp.ClientSession(connector=connector, auto_decompress=False)

    async def close_session(_: web.Application) -> None:
        await session["s"].close()

    async def handle(request: web.Request) -> web.StreamResponse:
        headers = _forwardable(request.headers, _REQUEST_DROP)
        headers["X-Forwarded-For"] = request.remote or ""
        body = request.content if request.body_exists else None
        url = upstream + request.raw_path
        async with session["s"].request(
            request.method, url, headers=headers, data=body, allow_redirects=False
        ) as up:
            if translate_delete and _wants_204(request, up):
                await up.read()
                return web.Response(status=204)
            relayed_headers = _forwardable(up.headers, _HOP_BY_HOP)
            response = web.StreamResponse(status=up.status, headers=relayed_headers)
            await response.prepare(request)
            async for chunk in up.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", required=True, help="http://HOST:PORT")
    parser.add_argument("--listen", default="127.0.0.1:8081", help="HOST:PORT")
    parser.add_argument("--translate-delete", action="store_true")
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    try:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    app = make_app(args.upstream.rstrip("/"), args.translate_delete)
    web.run_app(app, host=host, port=int(port), access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
