"""The version-change framework on its own: validation, planning, ordering, failures."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from gateway.kinvey.errors import KinveyError
from gateway.kinvey.routes import match
from gateway.settings import load_settings
from gateway.versioning import (
    ERRORS,
    MalformedChangeError,
    Next,
    RequestInfo,
    ResponseInfo,
    VersionChange,
    newer,
    older,
)
from gateway.versioning.bundle import VersionBundle
from gateway.versioning.context import ExchangeContext, Services
from gateway.versioning.pipeline import run_plan
from tests.changes.support import RecordingMetrics as Recorder


class AddsTwo(VersionChange):
    """v2: requests gain a marker; responses lose it."""

    introduced_in = 2

    @older.request("GET", routes={"appdata.entity"})
    def mark(request: RequestInfo) -> None:
        request.headers.add("X-Trail", "req-2")

    @older.response("GET", routes={"appdata.entity"})
    def unmark(response: ResponseInfo) -> None:
        response.json = {**response.json, "trail": [*response.json["trail"], "resp-2"]}

    @newer.response("GET", routes={"appdata.entity"})
    def forward(response: ResponseInfo) -> None:
        response.json = {**response.json, "forward": 2}


class AddsFour(VersionChange):
    """v4: another marker, and an around hook."""

    introduced_in = 4

    @older.request("GET", routes={"appdata.entity"})
    def mark(request: RequestInfo) -> None:
        request.headers.add("X-Trail", "req-4")

    @older.around("GET", routes={"appdata.entity"})
    async def wrap(request: RequestInfo, call_next: Next) -> ResponseInfo:
        request.headers.add("X-Trail", "around-4")
        return await call_next(request)

    @older.response("GET", routes={"appdata.entity"})
    def unmark(response: ResponseInfo) -> None:
        response.json = {**response.json, "trail": [*response.json["trail"], "resp-4"]}


class RefusesBelowFive(VersionChange):
    """v5: a gate, and an error rewrite that must opt into error statuses."""

    introduced_in = 5

    @older.request("DELETE", routes={"appdata.entity"})
    def gate(request: RequestInfo) -> None:
        raise KinveyError("FeatureUnavailable")

    @older.response(routes={"*"}, statuses=ERRORS)
    def shout(response: ResponseInfo) -> None:
        response.json = {**response.json, "seen_by": "v5"}


class Explodes(VersionChange):
    """v3: a buggy change."""

    introduced_in = 3

    @older.response("PUT", routes={"appdata.entity"})
    def boom(response: ResponseInfo) -> None:
        raise RuntimeError("bug")


BUNDLE = VersionBundle([AddsTwo, AddsFour, RefusesBelowFive, Explodes])


def _request(method: str, path: str, client: int, upstream: int, metrics: Recorder) -> RequestInfo:
    context = ExchangeContext(load_settings(None, {}), None, "http://gw", Services(), metrics)
    return RequestInfo(
        method=method,
        raw_path=path,
        route=match(path),
        headers=CIMultiDict(),
        client_version=client,
        upstream_version=upstream,
        context=context,
        body=b"",
    )


async def _upstream_echo(request: RequestInfo) -> ResponseInfo:
    return ResponseInfo.from_json(200, {"trail": request.headers.getall("X-Trail", [])})


async def test_request_hooks_ascend_arounds_nest_and_responses_descend() -> None:
    metrics = Recorder()
    plan = BUNDLE.plan(1, 6, "GET", "appdata.entity")
    # RefusesBelowFive matches too (its error hook takes any route) but leaves a 200 alone.
    assert plan.change_names == ("AddsTwo", "AddsFour", "RefusesBelowFive")
    request = _request("GET", "/appdata/k/c/1", 1, 6, metrics)
    response = await run_plan(plan, request, _upstream_echo)
    assert response.json["trail"] == ["req-2", "req-4", "around-4", "resp-4", "resp-2"]
    assert request.context.applied == ["AddsTwo", "AddsFour"]
    assert ("AddsFour", "around") in metrics.applied


def test_changes_outside_the_client_upstream_range_stay_dormant() -> None:
    assert BUNDLE.plan(6, 6, "GET", "appdata.entity").is_passthrough
    assert BUNDLE.plan(5, 6, "GET", "appdata.entity").is_passthrough
    assert BUNDLE.plan(2, 3, "GET", "appdata.entity").is_passthrough
    assert BUNDLE.plan(1, 3, "GET", "appdata.entity").change_names == ("AddsTwo",)
    assert BUNDLE.plan(1, 4, "POST", "appdata.collection").is_passthrough


async def test_forward_emulation_uses_newer_hooks() -> None:
    plan = BUNDLE.plan(3, 1, "GET", "appdata.entity")
    assert plan.change_names == ("AddsTwo",)
    response = await run_plan(
        plan, _request("GET", "/appdata/k/c/1", 3, 1, Recorder()), _upstream_echo
    )
    assert response.json["forward"] == 2


async def test_a_gate_answers_and_outer_layers_still_shape_the_error() -> None:
    called = []

    async def upstream(request: RequestInfo) -> ResponseInfo:
        called.append(request)
        return ResponseInfo.from_json(200, {})

    plan = BUNDLE.plan(1, 6, "DELETE", "appdata.entity")
    metrics = Recorder()
    response = await run_plan(plan, _request("DELETE", "/appdata/k/c/1", 1, 6, metrics), upstream)
    assert response.status == 400
    assert response.json["error"] == "FeatureUnavailable"
    assert called == []
    # the v5 layer's own error hook does not see the error its request hook raised
    assert "seen_by" not in response.json
    assert metrics.refused == [("RefusesBelowFive", "FeatureUnavailable")]


async def test_error_statuses_are_matched_only_when_declared() -> None:
    async def failing(request: RequestInfo) -> ResponseInfo:
        return ResponseInfo.from_error(KinveyError("EntityNotFound"))

    plan = BUNDLE.plan(4, 6, "GET", "appdata.entity")
    response = await run_plan(plan, _request("GET", "/appdata/k/c/1", 4, 6, Recorder()), failing)
    assert response.status == 404
    assert response.json["seen_by"] == "v5"


async def test_a_crashing_change_gives_500_for_that_request_and_is_counted() -> None:
    metrics = Recorder()
    plan = BUNDLE.plan(2, 6, "PUT", "appdata.entity")
    response = await run_plan(
        plan, _request("PUT", "/appdata/k/c/1", 2, 6, metrics), _upstream_echo
    )
    assert response.status == 500
    assert response.json["error"] == "KinveyInternalErrorStop"
    assert "Explodes" in response.json["debug"]
    assert metrics.failed == ["Explodes"]


def test_malformed_changes_fail_at_definition() -> None:
    with pytest.raises(MalformedChangeError, match="docstring"):

        class NoDoc(VersionChange):
            introduced_in = 2

            @older.request(routes={"other"})
            def hook(request: RequestInfo) -> None: ...

    with pytest.raises(MalformedChangeError, match="introduced_in"):

        class NoVersion(VersionChange):
            """Doc."""

            @older.request(routes={"other"})
            def hook(request: RequestInfo) -> None: ...

    with pytest.raises(MalformedChangeError, match="unknown route"):

        class BadRoute(VersionChange):
            """Doc."""

            introduced_in = 2

            @older.request(routes={"appdata.nope"})
            def hook(request: RequestInfo) -> None: ...

    with pytest.raises(MalformedChangeError, match="at least one hook"):

        class NoHooks(VersionChange):
            """Doc."""

            introduced_in = 2


def test_query_parameters_are_edited_without_touching_the_rest() -> None:
    request = _request("DELETE", "/user/k/u1?soft=true&x=%2F%20", 1, 6, Recorder())
    assert request.query("soft") == "true"
    request.set_query("soft", None)
    request.set_query("hard", "true")
    assert request.raw_path == "/user/k/u1?x=%2F%20&hard=true"
