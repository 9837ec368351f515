"""The engine's contracts: one failure rule for every hook kind, counting by the engine only,
and bodies read only when declared.

A plan for a v1 client on a v4 upstream has up to three layers: ``Shapes`` (v2, outer) marks
every answer on its way out; ``Fails`` (v3) has a request, an around and a response hook that
raise what the test asks for (``X-Raise``), and a response hook of its own that marks every
answer; ``ReadsBody`` (v4, inner) reads request bodies, declared or not. The failure rule
(``versioning.pipeline``): the failing layer ends, its own response hooks do not run, the outer
layers still shape the answer.
"""

from __future__ import annotations

import inspect
import logging

import pytest

from gateway.kinvey.errors import KinveyError
from gateway.observability.metrics import Metrics
from gateway.observability.null_metrics import NullMetrics
from gateway.versioning import (
    ERRORS,
    SUCCESS,
    Next,
    RequestInfo,
    ResponseInfo,
    VersionChange,
    older,
)
from gateway.versioning.bundle import VersionBundle
from gateway.versioning.change import HookKind, Side
from gateway.versioning.metrics import NO_METRICS, NoMetrics, TranslationMetrics
from gateway.versioning.model import UndeclaredBodyRead
from tests.changes.support import FakeUpstream, Harness, run

EVERY_STATUS = SUCCESS | ERRORS
RAISES = {"kinvey": ("FeatureUnavailable", 400), "bug": ("KinveyInternalErrorStop", 500)}


def _raise(what: str) -> None:
    if what == "kinvey":
        raise KinveyError("FeatureUnavailable", debug="refused by the change")
    raise RuntimeError("a bug in the change")


def _mark(response: ResponseInfo, mark: str) -> None:
    body = response.json if isinstance(response.json, dict) else {}
    response.json = {**body, "marks": [*body.get("marks", []), mark]}


class Shapes(VersionChange):
    """v2: marks every answer on its way out."""

    introduced_in = 2

    @older.response(routes={"*"}, statuses=EVERY_STATUS)
    def outer_mark(response: ResponseInfo) -> None:
        _mark(response, "outer")


class Fails(VersionChange):
    """v3: GET fails in a request hook, PUT in an around hook, DELETE in a response hook."""

    introduced_in = 3

    @older.request("GET", routes={"appdata.entity"})
    def fail_request(request: RequestInfo) -> None:
        _raise(request.headers["X-Raise"])

    @older.around("PUT", routes={"appdata.entity"})
    async def fail_around(request: RequestInfo, call_next: Next) -> ResponseInfo:
        await call_next(request)  # the upstream answered; the hook fails after it
        _raise(request.headers["X-Raise"])
        raise AssertionError("unreachable")

    @older.response("DELETE", routes={"appdata.entity"})
    def fail_response(response: ResponseInfo) -> None:
        _raise(response.json["raise"])

    @older.response(routes={"*"}, statuses=EVERY_STATUS)
    def own_mark(response: ResponseInfo) -> None:
        _mark(response, "own")


class ReadsBody(VersionChange):
    """v4: POST reads the body it declared; PATCH reads one it did not declare."""

    introduced_in = 4

    @older.request("POST", routes={"appdata.collection"}, reads_body=True)
    def declared(request: RequestInfo) -> None:
        request.headers["X-Seen"] = str(request.json)

    @older.request("PATCH", routes={"appdata.collection"})
    def undeclared(request: RequestInfo) -> None:
        request.headers["X-Seen"] = str(request.json)


BUNDLE = VersionBundle([Shapes, Fails, ReadsBody])
METHOD_OF_KIND = {HookKind.REQUEST: "GET", HookKind.AROUND: "PUT", HookKind.RESPONSE: "DELETE"}


@pytest.mark.parametrize("kind", list(METHOD_OF_KIND))
@pytest.mark.parametrize("what", list(RAISES))
async def test_a_failing_hook_ends_its_layer_and_outer_layers_shape_the_answer(
    kind: HookKind, what: str, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness()

    def answer(request: RequestInfo) -> ResponseInfo:
        return ResponseInfo.from_json(200, {"raise": what})

    upstream = FakeUpstream(answer)
    request = harness.request(
        METHOD_OF_KIND[kind], "/appdata/k/c/1", 1, 4, headers={"X-Raise": what}
    )
    with caplog.at_level(logging.ERROR, logger="gateway.versioning"):
        response = await run(request, upstream, BUNDLE)
    error, status = RAISES[what]
    assert (response.status, response.json["error"]) == (status, error)
    assert response.json["marks"] == ["outer"]  # "own" did not run: its layer failed
    assert len(upstream.seen) == (0 if kind is HookKind.REQUEST else 1)
    metrics = harness.metrics
    if what == "kinvey":
        assert metrics.refused == [("Fails", "FeatureUnavailable")] and metrics.failed == []
        assert caplog.records == []  # a refusal is an answer, not an incident
    else:
        assert metrics.failed == ["Fails"] and metrics.refused == []
        (record,) = caplog.records
        assert "Fails" in record.getMessage() and f"fail_{kind}" in record.getMessage()
        assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert ("Shapes", "response") in metrics.applied
    assert not any(change == "Fails" for change, _ in metrics.applied)


async def test_every_hook_that_runs_is_counted_by_the_engine_with_its_kind() -> None:
    harness = Harness()
    request = harness.request("POST", "/appdata/k/c", 1, 4, body={"a": 1})
    response = await run(request, FakeUpstream(lambda _: ResponseInfo.from_json(201, {})), BUNDLE)
    assert response.json == {"marks": ["own", "outer"]}
    assert harness.metrics.applied == [
        ("ReadsBody", "request"),
        ("Fails", "response"),
        ("Shapes", "response"),
    ]
    assert request.context.applied == ["ReadsBody", "Fails", "Shapes"]
    assert harness.metrics.refused == harness.metrics.failed == []


async def test_a_declared_body_is_loaded_and_read() -> None:
    harness = Harness()
    request = harness.request("POST", "/appdata/k/c", 1, 4, body={"a": 1})
    assert request.body is None and request.stream is not None  # as the gateway hands it over
    upstream = FakeUpstream(lambda _: ResponseInfo.from_json(201, {}))
    response = await run(request, upstream, BUNDLE)
    assert response.status == 201
    assert upstream.seen[0].headers["X-Seen"] == "{'a': 1}"


async def test_reading_a_body_the_hook_did_not_declare_raises() -> None:
    harness = Harness()
    request = harness.request("PATCH", "/appdata/k/c", 1, 4, body={"a": 1})
    assert not BUNDLE.plan(1, 4, "PATCH", "appdata.collection").reads_request_body
    with pytest.raises(UndeclaredBodyRead):
        request.json  # noqa: B018 - the property read is the act under test
    upstream = FakeUpstream(lambda _: ResponseInfo.from_json(200, {}))
    response = await run(request, upstream, BUNDLE)
    assert (response.status, response.json["error"]) == (500, "KinveyInternalErrorStop")
    assert harness.metrics.failed == ["ReadsBody"] and upstream.seen == []


def test_a_request_without_a_body_reads_as_none_and_responses_must_be_loaded() -> None:
    harness = Harness()
    assert harness.request("PATCH", "/appdata/k/c", 1, 4).json is None
    with pytest.raises(UndeclaredBodyRead):
        ResponseInfo(200, body=None).json  # noqa: B018


async def test_a_context_without_metrics_counts_nothing_and_still_answers() -> None:
    harness = Harness()
    request = harness.request("GET", "/appdata/k/c/1", 1, 4, headers={"X-Raise": "kinvey"})
    request.context.metrics = NO_METRICS
    response = await run(request, FakeUpstream(lambda _: ResponseInfo(200)), BUNDLE)
    assert response.status == 400 and harness.metrics == type(harness.metrics)()


def test_hook_side_and_kind_are_enums() -> None:
    sides = {hook.side for hook in (*Shapes.hooks, *Fails.hooks)}
    kinds = {hook.kind for hook in Fails.hooks}
    assert sides == {Side.OLDER}
    assert kinds == {HookKind.REQUEST, HookKind.AROUND, HookKind.RESPONSE}
    with pytest.raises(ValueError):
        Side("sideways")


@pytest.mark.parametrize("implementation", [Metrics, NullMetrics, NoMetrics])
def test_the_gateway_metrics_implement_what_the_engine_counts(implementation: type) -> None:
    """The handler passes ``observability.metrics.Metrics`` (typed ``Any`` there) as the engine's
    ``TranslationMetrics``: every method the engine calls must exist with the same signature."""
    for name in ("translation_applied", "translation_refused", "translation_failed"):
        expected = inspect.signature(getattr(TranslationMetrics, name))
        assert inspect.signature(getattr(implementation, name)) == expected, name
