"""Metrics: the documented names, labels and buckets, bounded label values, NullMetrics."""

from __future__ import annotations

import inspect
import subprocess

import pytest
from aiohttp import web
from multidict import CIMultiDict
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.http.upstream import UpstreamClient
from gateway.kinvey.client_identity import ClientIdentity
from gateway.observability import metrics as metrics_module
from gateway.observability.metric_families import LATENCY_BUCKETS
from gateway.observability.metrics import Metrics
from gateway.observability.null_metrics import NullMetrics
from tests.conftest import StartUpstream
from tests.observability.tools import require_binary

DOCUMENTED = {  # docs/architecture.md "Metrics": name -> (type, labels)
    "kgw_http_requests": ("counter", {"method", "route", "code", "api_version"}),
    "kgw_http_request_duration_seconds": ("histogram", {"method", "route", "status_class"}),
    "kgw_upstream_request_duration_seconds": ("histogram", {"route", "status_class"}),
    "kgw_upstream_requests": ("counter", {"route", "outcome"}),
    "kgw_translations": ("counter", {"change", "direction"}),
    "kgw_translation_errors": ("counter", {"change"}),
    "kgw_translation_refusals": ("counter", {"change", "error"}),
    "kgw_auth_exchanges": ("counter", {"kind", "result", "cache"}),
    "kgw_http_requests_in_flight": ("gauge", set()),
    "kgw_upstream_connections_created": ("counter", set()),
    "kgw_upstream_connections_reused": ("counter", set()),
    "kgw_http_request_size_bytes": ("counter", {"route"}),
    "kgw_http_response_size_bytes": ("counter", {"route"}),
    "kgw_gateway_errors": ("counter", {"reason"}),
    "kgw_build_info": ("gauge", {"version", "upstream_api_version", "tls_verify"}),
    "kgw_client_releases": ("counter", {"app_release", "sdk", "api_version"}),
    "kgw_client_release_refusals": ("counter", {"app_release", "mode"}),
    "kgw_client_release_first_seen_timestamp_seconds": ("gauge", {"app_release"}),
    "kgw_client_release_last_seen_timestamp_seconds": ("gauge", {"app_release"}),
}
SHADOW_DOCUMENTED = {  # registered only while shadow comparison is on (gateway/shadow/record.py)
    "kgw_shadow_comparisons": ("counter", {"route", "api_version", "result"}),
    "kgw_shadow_differing_fields": ("counter", {"route", "api_version", "field"}),
    "kgw_shadow_candidate_api_version": ("gauge", set()),
}


def fresh() -> tuple[Metrics, CollectorRegistry]:
    registry = CollectorRegistry()
    return Metrics(registry, version="9.9.9", upstream_api_version=5, tls_verify=False), registry


def finish(metrics: Metrics, **overrides: object) -> None:
    call: dict[str, object] = {
        "method": "GET", "route": "appdata.entity", "status": 200, "api_version": 3,
        "duration": 0.003, "request_bytes": 0, "response_bytes": 120,
    }  # fmt: skip
    call.update(overrides)
    metrics.request_started()
    metrics.request_finished(**call)  # type: ignore[arg-type]


def exercise_everything(metrics: Metrics) -> None:
    finish(metrics)
    metrics.upstream_finished(route="appdata.entity", status=200, outcome="ok", duration=0.002)
    metrics.translation_applied("v2_delete_returns_count", "response")
    metrics.translation_failed("v2_delete_returns_count")
    metrics.translation_refused("v3_files_api", "FeatureUnavailable")
    metrics.auth_exchange("basic_to_session", "ok", "miss")
    metrics.gateway_error("upstream_timeout")
    metrics.client_request(ClientIdentity("2.3.1", "html5", "4.2.5"), 6, "report_only", 1e9)


def test_every_documented_metric_is_exported_with_its_type_and_labels() -> None:
    metrics, registry = fresh()
    exercise_everything(metrics)
    families = {
        f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())
    }
    for name, (kind, labels) in DOCUMENTED.items():
        family = families[name]
        assert family.type == kind, name
        main = [s for s in family.samples if not s.name.endswith("_created")]
        assert main, name
        for sample in main:
            assert set(sample.labels) - {"le"} == labels, (name, sample.labels)
    bucket_bounds = {
        s.labels["le"] for s in families["kgw_http_request_duration_seconds"].samples
        if s.name.endswith("_bucket")
    }  # fmt: skip
    assert bucket_bounds == {repr(float(b)) for b in LATENCY_BUCKETS} | {"+Inf"}
    assert "process_cpu_seconds" in families and "process_resident_memory_bytes" in families
    build = families["kgw_build_info"].samples[0]
    assert build.value == 1
    assert build.labels == {"version": "9.9.9", "upstream_api_version": "5", "tls_verify": "false"}


def test_request_finished_counts_observes_and_balances_in_flight() -> None:
    metrics, registry = fresh()
    finish(metrics, method="DELETE", status=204, api_version=1, request_bytes=0,
           response_bytes=0, duration=0.2)  # fmt: skip
    finish(metrics, method="DELETE", status=204, api_version=1, request_bytes=10, duration=0.04)
    value = registry.get_sample_value
    labels = {"method": "DELETE", "route": "appdata.entity", "code": "204", "api_version": "1"}
    assert value("kgw_http_requests_total", labels) == 2
    hist = {"method": "DELETE", "route": "appdata.entity", "status_class": "2xx"}
    assert value("kgw_http_request_duration_seconds_count", hist) == 2
    assert value("kgw_http_request_duration_seconds_bucket", {**hist, "le": "0.025"}) == 0
    assert value("kgw_http_request_duration_seconds_bucket", {**hist, "le": "0.05"}) == 1
    assert value("kgw_http_request_duration_seconds_sum", hist) == pytest.approx(0.24)
    finish(metrics, method="DELETE", status=204, api_version=1, duration=0.025)  # on the edge
    assert value("kgw_http_request_duration_seconds_bucket", {**hist, "le": "0.025"}) == 1
    finish(metrics, method="DELETE", status=204, api_version=1, duration=61.0)  # past the end
    assert value("kgw_http_request_duration_seconds_bucket", {**hist, "le": "60.0"}) == 3
    assert value("kgw_http_request_duration_seconds_bucket", {**hist, "le": "+Inf"}) == 4
    assert value("kgw_http_requests_total", labels) == 4
    assert value("kgw_http_request_duration_seconds_bucket", {**hist, "le": "0.25"}) == 3
    assert value("kgw_http_request_size_bytes_total", {"route": "appdata.entity"}) == 10
    assert value("kgw_http_response_size_bytes_total", {"route": "appdata.entity"}) == 360
    assert value("kgw_http_requests_in_flight") == 0
    metrics.request_started()
    assert value("kgw_http_requests_in_flight") == 1


def test_unbounded_inputs_fold_into_few_series_and_bounded_caches() -> None:
    metrics, registry = fresh()
    for i in range(metrics_module.RAW_KEY_CACHE_LIMIT + 500):
        finish(metrics, method=f"M{i}", route=f"/appdata/kid_{i}", status=200 + i % 2,
               api_version=7 + i)  # fmt: skip
    finish(metrics, api_version=None, status=99)
    series = [
        s.labels for f in registry.collect() if f.name == "kgw_http_requests" for s in f.samples
        if s.name == "kgw_http_requests_total"
    ]  # fmt: skip
    assert sorted(s["code"] for s in series) == ["200", "201", "invalid"]
    assert {(s["method"], s["route"], s["api_version"]) for s in series} == {
        ("_OTHER", "other", "invalid"), ("GET", "appdata.entity", "invalid"),
    }  # fmt: skip
    total = sum(registry.get_sample_value("kgw_http_requests_total", s) or 0 for s in series)
    assert total == metrics_module.RAW_KEY_CACHE_LIMIT + 501
    assert len(metrics._request_cells) == metrics_module.RAW_KEY_CACHE_LIMIT


def test_upstream_translation_auth_and_gateway_error_labels() -> None:
    metrics, registry = fresh()
    value = registry.get_sample_value
    assert value("kgw_gateway_errors_total", {"reason": "overloaded"}) == 0  # starts at zero
    zero_auth = {"kind": "login_after_signup", "result": "mfa_required", "cache": "none"}
    assert value("kgw_auth_exchanges_total", zero_auth) == 0
    metrics.register_changes(["v4_result_set_limit"])
    assert value("kgw_translation_errors_total", {"change": "v4_result_set_limit"}) == 0
    assert value("kgw_translation_errors_total", {"change": "v6_signup_no_token"}) is None

    metrics.upstream_finished(route="user.login", status=None, outcome="timeout", duration=60.0)
    metrics.upstream_finished(route="user.login", status=503, outcome="ok", duration=0.01)
    metrics.upstream_finished(route="nope", status=None, outcome="weird", duration=0.01)
    metrics.translation_applied("v6_signup_no_token", "around")
    # a change that has run has an error series, at 0, even without register_changes
    assert value("kgw_translation_errors_total", {"change": "v6_signup_no_token"}) == 0
    metrics.translation_applied("v6_signup_no_token", "sideways")
    metrics.translation_failed("v4_result_set_limit")
    metrics.auth_exchange("basic_to_session", "invalid_credentials", "hit")
    metrics.auth_exchange("made_up", "ok", "miss")
    metrics.gateway_error("body_too_large")
    metrics.gateway_error("not_a_reason")

    assert value("kgw_upstream_requests_total", {"route": "user.login", "outcome": "timeout"}) == 1
    assert value("kgw_upstream_requests_total", {"route": "other", "outcome": "other"}) == 1
    timeout = {"route": "user.login", "status_class": "error", "le": "60.0"}
    assert value("kgw_upstream_request_duration_seconds_bucket", timeout) == 1
    assert value("kgw_upstream_request_duration_seconds_bucket", {**timeout, "le": "30.0"}) == 0
    five = {"route": "user.login", "status_class": "5xx"}
    assert value("kgw_upstream_request_duration_seconds_count", five) == 1
    change = {"change": "v6_signup_no_token"}
    assert value("kgw_translations_total", {**change, "direction": "around"}) == 1
    assert value("kgw_translations_total", {**change, "direction": "other"}) == 1
    assert value("kgw_translation_errors_total", {"change": "v4_result_set_limit"}) == 1
    bad_login = {"kind": "basic_to_session", "result": "invalid_credentials", "cache": "hit"}
    assert value("kgw_auth_exchanges_total", bad_login) == 1
    folded = {"kind": "other", "result": "ok", "cache": "miss"}
    assert value("kgw_auth_exchanges_total", folded) == 1
    assert value("kgw_gateway_errors_total", {"reason": "body_too_large"}) == 1
    assert value("kgw_gateway_errors_total", {"reason": "other"}) == 1


def test_a_refusal_is_counted_by_change_and_error_and_as_a_gateway_made_answer() -> None:
    metrics, registry = fresh()
    value = registry.get_sample_value
    metrics.translation_refused("FilesApiExists", "FeatureUnavailable")
    metrics.translation_refused("FilesApiExists", "FeatureUnavailable")
    metrics.translation_refused("ResultSetLimit", "ResultSetSizeExceeded")
    metrics.translation_refused("Login", "KinveyInternalErrorRetry")
    metrics.translation_refused("Odd", "NotAKinveyError")
    refused = {"change": "FilesApiExists", "error": "FeatureUnavailable"}
    assert value("kgw_translation_refusals_total", refused) == 2
    assert value("kgw_translation_refusals_total", {"change": "Odd", "error": "other"}) == 1
    assert value("kgw_gateway_errors_total", {"reason": "feature_unavailable"}) == 2
    assert value("kgw_gateway_errors_total", {"reason": "bad_request"}) == 1
    assert value("kgw_gateway_errors_total", {"reason": "internal"}) == 2


@pytest.mark.parametrize("trust_env", [False, True], ids=["lean_client", "egress_session"])
async def test_upstream_connections_opened_and_reused_are_counted(
    start_upstream: StartUpstream, trust_env: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the upstream client the gateway wires to these counters (app.py), both ways."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)  # trust_env: the upstream is reached directly

    async def ok(request: web.Request) -> web.Response:
        close = request.query.get("close") == "1"
        return web.Response(text="ok", headers={"Connection": "close"} if close else {})

    app = web.Application()
    app.router.add_get("/", ok)
    url = await start_upstream(app)
    metrics, registry = fresh()
    client = UpstreamClient(
        pool_size=4,
        connect_timeout=1.0,
        read_timeout=5.0,
        keepalive_timeout=5.0,
        trust_env=trust_env,
        on_connection_opened=metrics.connection_opened,
        on_connection_reused=metrics.connection_reused,
    )
    await client.start()
    try:
        # One after the other: one connection reused twice; then the server closes it, so
        # the next request opens a second one, which the last request reuses.
        for close in ("0", "0", "1", "0", "0"):
            response = await client.send(url, "GET", f"/?close={close}", CIMultiDict(), None)
            try:
                await response.content.read()
            finally:
                response.release()
    finally:
        await client.close()
    assert registry.get_sample_value("kgw_upstream_connections_created_total") == 2
    assert registry.get_sample_value("kgw_upstream_connections_reused_total") == 3


def test_null_metrics_overrides_every_public_method_and_registers_nothing() -> None:
    public = {
        n for n, f in inspect.getmembers(Metrics, inspect.isfunction) if not n.startswith("_")
    }
    assert public >= {"request_started", "request_finished", "upstream_finished"}
    for name in public:
        assert getattr(NullMetrics, name) is not getattr(Metrics, name), name
        assert inspect.signature(getattr(NullMetrics, name)) == inspect.signature(
            getattr(Metrics, name)
        ), name
    null = NullMetrics()
    assert null.enabled is False and Metrics.enabled is True
    exercise_everything(null)


def test_exposition_passes_promtool_check_metrics() -> None:
    promtool = require_binary("promtool", "prometheus")
    metrics, registry = fresh()
    exercise_everything(metrics)
    result = subprocess.run(
        [promtool, "check", "metrics"], input=generate_latest(registry), capture_output=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_a_second_metrics_on_the_same_registry_is_refused() -> None:
    _, registry = fresh()
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Metrics(registry, version="x", upstream_api_version=6)


def test_shadow_metrics_are_the_documented_ones() -> None:
    from gateway.shadow.record import Sample, ShadowRecorder

    registry = CollectorRegistry()
    recorder = ShadowRecorder(
        registry, candidate_pin=6, newest_api_version=6, ring_size=2, show_values=False
    )
    recorder.counted("appdata.entity", 3, "differs")
    recorder.differed(Sample(0.0, "appdata.entity", "GET", 3, 5, 6, ("$.a",)), {"a": 1}, {})
    families = {f.name: f for f in registry.collect()}
    for name, (kind, labels) in SHADOW_DOCUMENTED.items():
        assert families[name].type == kind, name
        for sample in families[name].samples:
            if not sample.name.endswith("_created"):
                assert set(sample.labels) == labels, (name, sample.labels)
