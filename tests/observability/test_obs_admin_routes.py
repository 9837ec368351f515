"""Admin routes on a real aiohttp server: /metrics, /dashboard, /dashboard/data.json."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from gateway.observability.admin_routes import add_observability_routes
from gateway.observability.metrics import Metrics

MakeClient = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


async def admin(
    aiohttp_client: MakeClient,
) -> tuple[TestClient[web.Request, web.Application], Metrics]:
    registry = CollectorRegistry()
    metrics = Metrics(registry, version="1.2.3", upstream_api_version=4)
    app = web.Application()
    add_observability_routes(app, registry, upstream_api_version=4, newest_api_version=6)
    return await aiohttp_client(app), metrics


def drive(metrics: Metrics) -> None:
    traffic = [  # (api_version, status, duration)
        (0, 204, 0.004), (0, 200, 0.004), (1, 200, 0.02), (4, 502, 0.3), (None, 400, 0.0005),
    ]  # fmt: skip
    for version, status, duration in traffic:
        metrics.request_started()
        metrics.request_finished(
            method="GET", route="appdata.entity", status=status, api_version=version,
            duration=duration, request_bytes=3, response_bytes=50,
        )  # fmt: skip
    metrics.upstream_finished(route="appdata.entity", status=200, outcome="ok", duration=0.003)
    metrics.upstream_finished(route="appdata.entity", status=None, outcome="connect_error",
                              duration=0.001)  # fmt: skip
    metrics.translation_applied("v2_delete_returns_count", "response")
    metrics.translation_applied("v2_delete_returns_count", "response")
    metrics.translation_failed("v1_standard_errors")
    metrics.gateway_error("version_not_available")
    metrics.request_started()  # one still in flight


async def test_metrics_endpoint_serves_the_registry_in_text_format(
    aiohttp_client: MakeClient,
) -> None:
    client, metrics = await admin(aiohttp_client)
    drive(metrics)
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(await response.text())}
    requests = families["kgw_http_requests"].samples
    assert sum(s.value for s in requests if s.name == "kgw_http_requests_total") == 5
    assert families["kgw_http_requests_in_flight"].samples[0].value == 1

    open_metrics = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert open_metrics.headers["Content-Type"].startswith("application/openmetrics-text")
    assert (await open_metrics.text()).rstrip().endswith("# EOF")


async def test_dashboard_page_is_self_contained(aiohttp_client: MakeClient) -> None:
    client, _ = await admin(aiohttp_client)
    response = await client.get("/dashboard")
    assert response.status == 200
    assert response.content_type == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    html = await response.text()
    assert "<script>" in html and "<style>" in html
    # No external resource of any kind: no URLs, no src/href attributes, no imports.
    assert re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, flags=re.IGNORECASE) == []
    assert re.findall(r"\b(?:src|href)\s*=", html, flags=re.IGNORECASE) == []
    assert "@import" not in html and "url(" not in html


async def test_dashboard_data_folds_the_registry_into_totals(aiohttp_client: MakeClient) -> None:
    client, metrics = await admin(aiohttp_client)
    drive(metrics)
    response = await client.get("/dashboard/data.json")
    assert response.status == 200
    data = await response.json()
    assert data["upstream_api_version"] == 4 and data["gateway_version"] == "1.2.3"
    assert data["tls_verify"] == "true"
    assert data["api_versions"] == ["0", "1", "2", "3", "4", "5", "6", "invalid"]
    assert data["requests_total"] == 5
    assert data["requests_by_api_version"] == {"0": 2, "1": 1, "4": 1, "invalid": 1}
    assert data["requests_by_status_class"] == {"2xx": 3, "5xx": 1, "4xx": 1}
    buckets = dict((str(le), count) for le, count in data["latency_buckets"])
    assert buckets["0.001"] == 1 and buckets["0.005"] == 3 and buckets["0.025"] == 4
    assert buckets["0.5"] == 5 and buckets["None"] == 5
    assert data["upstream_latency_buckets"][-1] == [None, 2]
    assert data["translations_by_change"] == {"v2_delete_returns_count": 2}
    assert data["translation_errors_by_change"] == {
        "v1_standard_errors": 1, "v2_delete_returns_count": 0,
    }  # fmt: skip
    assert data["gateway_errors_by_reason"]["version_not_available"] == 1
    assert data["gateway_errors_by_reason"]["upstream_timeout"] == 0
    assert data["upstream_requests_by_outcome"] == {"ok": 1, "connect_error": 1}
    assert data["in_flight"] == 1
    assert data["process_resident_memory_bytes"] > 0


async def test_data_for_an_idle_gateway_is_well_formed(aiohttp_client: MakeClient) -> None:
    client, _ = await admin(aiohttp_client)
    data = await (await client.get("/dashboard/data.json")).json()
    assert data["requests_total"] == 0 and data["requests_by_api_version"] == {}
    assert data["latency_buckets"] == [] and data["translations_by_change"] == {}
