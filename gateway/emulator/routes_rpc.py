"""``POST /rpc/:appKey/custom/:name``: a deterministic custom endpoint that echoes its input.

Like a business-logic endpoint's ``request`` object, the echo shows who called (the user's
username; None for the app or master secret) and the client headers an endpoint reads.
"""

from __future__ import annotations

from aiohttp import web

from gateway.emulator import auth
from gateway.emulator.responses import json_response
from gateway.emulator.routing import Call

ECHOED_HEADERS = (
    "X-Kinvey-Custom-Request-Properties",
    "X-Kinvey-Client-App-Version",
    "X-Kinvey-Device-Information",
)


async def custom_endpoint(call: Call) -> web.StreamResponse:
    principal = auth.authenticate(call, auth.DATA)
    body = await call.json_body()
    headers = {name: call.header(name) for name in ECHOED_HEADERS if call.header(name) is not None}
    return json_response(
        {
            "name": call.params["name"],
            "body": body if body is not None else {},
            "username": principal.user.username if principal.user is not None else None,
            "headers": headers,
        }
    )
