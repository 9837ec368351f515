"""Run a plan: request hooks, around hooks and response hooks, layer by layer.

``send`` is the innermost call (the upstream). Each layer turns the request one version
closer to the upstream, calls the next layer, and turns the response one version back.

The engine does all the counting (hooks never touch metrics): every hook that runs is counted
as applied, with its change's name and its kind.

Failure rule, the same for request, response and around hooks: a hook that raises ends its
layer. The failure becomes the answer from that layer outward: the layer's remaining hooks
(its later request hooks, its response hooks) do not run, the layers outside it shape the
answer as usual (e.g. into v0's error body), the layers inside it are done already. (An around
hook of the same layer that wraps the failed one is already running: ``call_next`` returns it
the answer.) What the answer is depends on what was raised:

- ``KinveyError``: the change refuses the request; that error is the answer, counted as a
  refusal with the change's name and the error's;
- ``BodyDecodeError`` (the hook read a body that is not JSON): ``400 JSONParseError``, counted
  as a refusal likewise;
- anything else is a bug in the change: logged with the change's name and the traceback,
  counted as a failure, answered ``500 KinveyInternalErrorStop``.

A response hook whose response is not JSON is skipped, not failed: the upstream's answer is
relayed as it came.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial

from gateway.kinvey.errors import KinveyError
from gateway.kinvey.json_body import BodyDecodeError
from gateway.versioning.bundle import Layer, Plan
from gateway.versioning.change import Hook
from gateway.versioning.model import RequestInfo, ResponseInfo

log = logging.getLogger("gateway.versioning")
Send = Callable[[RequestInfo], Awaitable[ResponseInfo]]


def _failure(hook: Hook, request: RequestInfo, exc: Exception) -> ResponseInfo:
    """The answer to a hook that raised (see the module docstring), counted."""
    metrics = request.context.metrics
    if isinstance(exc, BodyDecodeError):
        exc = KinveyError("JSONParseError", debug=str(exc))
    if isinstance(exc, KinveyError):
        metrics.translation_refused(hook.change, exc.name)
        return ResponseInfo.from_error(exc)
    log.error(
        "version change %s (hook %s) failed: %s: %s",
        hook.change,
        hook.name,
        type(exc).__name__,
        exc,
        exc_info=exc,
        extra={"change": hook.change},
    )
    metrics.translation_failed(hook.change)
    return ResponseInfo.from_error(
        KinveyError("KinveyInternalErrorStop", debug=f"translation {hook.change} failed")
    )


def _bind_around(hook: Hook, inner: Send, failed: list[Hook]) -> Send:
    """``inner`` wrapped in ``hook``; a failure is answered here and noted in ``failed``."""

    async def call(request: RequestInfo) -> ResponseInfo:
        if hook.when is not None and not hook.when(request):
            return await inner(request)
        try:
            response: ResponseInfo = await hook.fn(request, inner)
        except Exception as exc:
            failed.append(hook)
            return _failure(hook, request, exc)
        _applied(request, hook)
        return response

    return call


def _applied(request: RequestInfo, hook: Hook) -> None:
    context = request.context
    context.metrics.translation_applied(hook.change, hook.kind)
    if hook.change not in context.applied:
        context.applied.append(hook.change)


def _request_hooks(layer: Layer, request: RequestInfo) -> ResponseInfo | None:
    """Run a layer's request hooks; a failure's answer, or None."""
    for hook in layer.requests:
        if hook.when is not None and not hook.when(request):
            continue
        try:
            hook.fn(request)
        except Exception as exc:
            return _failure(hook, request, exc)
        _applied(request, hook)
    return None


async def _response_hooks(
    layer: Layer, request: RequestInfo, response: ResponseInfo
) -> ResponseInfo:
    for hook in layer.responses:
        if response.status not in hook.statuses:
            continue
        try:
            await response.load()
            hook.fn(response)
        except BodyDecodeError:
            continue  # the upstream sent no JSON here: nothing to translate, relay it as is
        except Exception as exc:
            return _failure(hook, request, exc)
        _applied(request, hook)
    return response


async def run_plan(plan: Plan, request: RequestInfo, send: Send) -> ResponseInfo:
    return await _run_from(plan.layers, 0, request, send)


async def _run_from(
    layers: tuple[Layer, ...], start: int, request: RequestInfo, send: Send
) -> ResponseInfo:
    """Layers ``start``.. in one frame: request hooks outer to inner, then ``send`` (or the
    around hooks of the first layer that has some, around the layers below it), then response
    hooks inner to outer. A failed layer's response hooks are skipped (the failure rule).

    One coroutine per around layer, instead of two per layer and a closure per hook: the
    profile of a translated request showed the nesting itself as a tenth of its cost.
    """
    end, count = start, len(layers)
    while end < count:
        layer = layers[end]
        stopped = _request_hooks(layer, request) if layer.requests else None
        if stopped is not None:  # a request hook failed: its answer goes back from here
            response = stopped
            break
        end += 1
        if layer.arounds:
            call: Send = partial(_run_from, layers, end, send=send)  # the layers below this one
            failed: list[Hook] = []
            for hook in reversed(layer.arounds):
                call = _bind_around(hook, call, failed)
            response = await call(request)
            if failed:
                end -= 1  # this layer failed: its response hooks are skipped
            break
    else:
        response = await send(request)
    for index in range(end - 1, start - 1, -1):
        layer = layers[index]
        if layer.responses and response.status in layer.response_statuses:
            response = await _response_hooks(layer, request, response)
    return response
