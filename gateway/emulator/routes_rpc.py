"""``POST /rpc/:appKey/custom/:name``: a deterministic custom endpoint that echoes its input."""

from __future__ import annotations

from aiohttp import web

from gateway.emulator import auth
from gateway.emulator.responses import json_response
from gateway.emulator.routing import Call


async def custom_endpoint(call: Call) -> web.StreamResponse:
    auth.authenticate(call, auth.DATA)
    body = await call.json_body()
    return json_response({"name": call.params["name"], "body": body if body is not None else {}})
