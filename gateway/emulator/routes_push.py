"""``POST /push/:appKey/register-device`` and ``/unregister-device`` (user credentials).

The body names the device: ``{"platform": "ios"|"android", "deviceId": "<token>"}``; both answer
``204`` and are idempotent (registering twice, or unregistering an unknown device, is no error).
A body without both strings is ``400 IncompleteRequestBody``; another platform ``400 BadRequest``.
"""

from __future__ import annotations

from aiohttp import web

from gateway.emulator import auth
from gateway.emulator.responses import empty_response, kinvey_error
from gateway.emulator.routing import Call
from gateway.kinvey.errors import KinveyError

PLATFORMS = ("ios", "android")


async def _device(call: Call) -> tuple[str, tuple[str, str]]:
    principal = auth.authenticate(call, {"user"})
    assert principal.user is not None
    body = await call.json_object(empty_ok=True)
    platform, device_id = body.get("platform"), body.get("deviceId")
    if not isinstance(platform, str) or not isinstance(device_id, str) or not device_id:
        raise kinvey_error("IncompleteRequestBody", "The body needs platform and deviceId")
    if platform.lower() not in PLATFORMS:
        raise KinveyError("BadRequest", debug=f"platform must be one of {', '.join(PLATFORMS)}")
    return principal.user.user_id, (platform.lower(), device_id)


async def register_device(call: Call) -> web.StreamResponse:
    user_id, device = await _device(call)
    call.store.push_devices.setdefault(user_id, set()).add(device)
    return empty_response(204)


async def unregister_device(call: Call) -> web.StreamResponse:
    user_id, device = await _device(call)
    call.store.push_devices.get(user_id, set()).discard(device)
    return empty_response(204)
