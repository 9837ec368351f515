"""CORS preflights: passed to the upstream as they are, or answered by the gateway for the
routes it serves itself."""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict

from gateway.exchange import Exchange
from gateway.handler.answers import Answer, Answers
from gateway.handler.policy import AppTarget
from gateway.handler.upstream_call import UpstreamCall
from gateway.kinvey import cors
from gateway.versioning.model import ResponseInfo


async def preflight(
    request: web.BaseRequest,
    exchange: Exchange,
    target: AppTarget,
    raw_path: str,
    calls: UpstreamCall,
    answers: Answers,
) -> Answer:
    """A CORS preflight goes to the upstream as it is (issue 14): it never carries the
    version header, so no version policy (the app's default version) applies to it."""
    base_url = target.base_url
    result = await calls.send(
        request, exchange, base_url, "OPTIONS", raw_path, request.headers, target.pin, None
    )
    if result.upstream_status is None:
        # Unreachable or timed out: a failed preflight would hide the gateway's 502/504 for
        # the actual request from the app; allow it, and let that request tell why.
        result = ResponseInfo(204, CIMultiDict(cors.preflight_headers(request.headers)))
    return await answers.answer(request, exchange, result, None, base_url)


def local_preflight(request: web.BaseRequest) -> Answer:
    """A preflight for a route the gateway answers itself (a gateway file URL): the gateway is
    the server a browser asks."""
    return web.Response(status=204, headers=cors.preflight_headers(request.headers)), 0
