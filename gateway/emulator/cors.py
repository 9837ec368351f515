"""CORS the way Kinvey's API answers browsers (web and hybrid apps call it cross-origin).

Every answer allows any origin and exposes the Kinvey headers; a preflight (``OPTIONS`` with
``Access-Control-Request-Method``) gets ``204`` allowing the API's methods and whatever headers
it asks for. Written apart from the gateway's own CORS helper on purpose: the emulator is the
reference the gateway is compared with (tests/emulator/test_emulator_independence.py).
"""

from __future__ import annotations

from aiohttp import web

_ON_EVERY_ANSWER = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Location, X-Kinvey-API-Version, X-Kinvey-Request-Id, "
    "X-Kinvey-Request-Start, X-Kinvey-Content-Type, Content-Range, Range",
}


def preflight(request: web.Request) -> web.Response | None:
    """The answer to a CORS preflight; None when ``request`` is not one."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return None
    response = web.Response(status=204, headers=_ON_EVERY_ANSWER)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
    asked = request.headers.get("Access-Control-Request-Headers")
    if asked:
        response.headers["Access-Control-Allow-Headers"] = asked
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def allow_cross_origin(response: web.StreamResponse) -> None:
    for name, value in _ON_EVERY_ANSWER.items():
        response.headers.setdefault(name, value)
