"""End to end: a real Prometheus scrapes the real gateway (in front of the emulator) under load.

Traffic from every client API version goes through the gateway, then the emulator is stopped
and more traffic gets 502s. Then every Grafana panel query and every alert expression is run
on that Prometheus, the alert rules' live states are read, the exposition goes through
``promtool check metrics``, and the gateway's access log is compared with what was sent.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.observability.grafana import (
    load_dashboard,
    panel_queries,
    substitute,
)
from tests.observability.live_stack import (
    APP_SECRET,
    MASTER_SECRET,
    NAMESPACE,
    POD,
    QUERY_SECRET,
    USER_PASSWORD,
    VERSIONS,
    LiveStack,
    Load,
    failing_traffic,
    healthy_traffic,
)
from tests.observability.test_obs_alert_rules import RULES, alert_rules
from tests.observability.tools import Prometheus, http_get, require_binary, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("observability-live")]

JOB = 'job="kinvey-gateway"'
# True in this scenario: the outage's two, and shadow differences (the stack's shadow candidate
# is an empty second emulator, so the reads of what the traffic made differ there).
FIRING_DURING_OUTAGE = {
    "KinveyGatewayHigh5xxRatio",
    "KinveyGatewayUpstreamUnreachable",
    "KinveyGatewayShadowDifferences",
}


@dataclass
class Scenario:
    stack: LiveStack
    prometheus: Prometheus
    healthy: Load
    failing: Load

    @property
    def sent(self) -> int:
        return self.healthy.sent + self.failing.sent


def scalar(prometheus: Prometheus, expr: str) -> float | None:
    result = prometheus.query(expr)
    return float(result[0]["value"][1]) if result else None


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    stack = LiveStack(tmp_path_factory.mktemp("live-stack"))
    try:
        prometheus = stack.start_prometheus(RULES)
        wait_until("the first scrape", lambda: prometheus.query(f"up{{{JOB}}} == 1"))
        healthy = Load()
        asyncio.run(healthy_traffic(stack.proxy_url, healthy, rounds=6))
        stack.emulator.stop()  # the upstream goes away
        failing = Load()
        asyncio.run(failing_traffic(stack.proxy_url, failing, rounds=4, per_round=40))
        total = healthy.sent + failing.sent
        wait_until(
            f"Prometheus to scrape all {total} requests",
            lambda: scalar(prometheus, f"sum(kgw_http_requests_total{{{JOB}}})") == total,
        )
        yield Scenario(stack, prometheus, healthy, failing)
    finally:
        stack.stop()


def test_the_gateway_counted_exactly_what_was_sent(scenario: Scenario) -> None:
    status, body = http_get(f"{scenario.stack.admin_url}/metrics")
    assert status == 200
    by_version: Counter[str] = Counter()
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "kgw_http_requests_total":
                by_version[sample.labels["api_version"]] += int(sample.value)
    assert by_version == scenario.healthy.by_version + scenario.failing.by_version
    assert set(scenario.failing.statuses) == {502}  # the gateway's own answer
    assert scenario.healthy.statuses[400] >= 6  # the "banana" version header, at least
    data = json.loads(http_get(f"{scenario.stack.admin_url}/dashboard/data.json")[1])
    assert data["requests_total"] == scenario.sent
    assert data["gateway_errors_by_reason"]["upstream_unreachable"] == scenario.failing.sent


def test_promtool_check_metrics_on_the_live_exposition(scenario: Scenario) -> None:
    promtool = require_binary("promtool", "prometheus")
    _, body = http_get(f"{scenario.stack.admin_url}/metrics")
    result = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                            check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_promtool_check_config_of_the_test_prometheus(scenario: Scenario) -> None:
    promtool = require_binary("promtool", "prometheus")
    result = subprocess.run([promtool, "check", "config", str(scenario.prometheus.config_path)],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "variables",
    [{}, {"namespace": NAMESPACE, "pod": POD}],
    ids=["all", "selected-pod"],
)
def test_every_dashboard_query_returns_data(scenario: Scenario, variables: dict[str, str]) -> None:
    empty = []
    for title, expr in panel_queries(load_dashboard()):
        if not scenario.prometheus.query(substitute(expr, variables)):
            empty.append(title)
    assert empty == [], f"panels without data: {empty}"


def test_a_filter_that_matches_nothing_returns_nothing(scenario: Scenario) -> None:
    # The check above can fail: the same queries for a pod that does not exist are empty.
    other_pod = {"namespace": NAMESPACE, "pod": "no-such-pod"}
    for title, expr in panel_queries(load_dashboard()):
        if "vector(0)" in expr:
            continue  # "or vector(0)" panels show 0 on purpose
        assert scenario.prometheus.query(substitute(expr, other_pod)) == [], title


def label_values(prometheus: Prometheus, query: str) -> set[str]:
    """Grafana's ``label_values(selector, label)`` through the series API."""
    selector, label = query.removeprefix("label_values(").removesuffix(")").rsplit(",", 1)
    series: list[dict[str, str]] = prometheus.api("series", **{"match[]": substitute(selector)})
    return {s[label.strip()] for s in series if label.strip() in s}


def test_dashboard_variables_resolve(scenario: Scenario) -> None:
    variables = {v["name"]: v for v in load_dashboard()["templating"]["list"]}
    prometheus = scenario.prometheus

    def values(name: str) -> set[str]:
        return label_values(prometheus, variables[name]["query"]["query"])

    assert values("namespace") == {NAMESPACE}
    assert values("pod") == {POD}
    assert {"appdata.handshake", "appdata.collection", "appdata.count", "user.me"} <= values(
        "route"
    )
    assert values("api_version") == {*map(str, VERSIONS), "invalid"}


def rule_states(prometheus: Prometheus) -> dict[str, str]:
    groups = prometheus.api("rules")["groups"]
    return {
        rule["name"]: rule["state"]
        for g in groups
        for rule in g["rules"]
        if rule["type"] == "alerting"
    }


def test_alert_expressions_and_live_rule_states(scenario: Scenario) -> None:
    prometheus = scenario.prometheus
    for rule in alert_rules():
        result = prometheus.query(rule["expr"])
        if rule["alert"] in FIRING_DURING_OUTAGE:
            assert result, f"{rule['alert']} should be true during the outage"
            assert {r["metric"].get("namespace") for r in result} == {NAMESPACE}
        else:
            assert result == [], f"{rule['alert']} should be quiet: {result}"

    def outage_alerts_active() -> dict[str, str] | None:
        states = rule_states(prometheus)
        active = {n for n, s in states.items() if s in {"pending", "firing"}}
        return states if active >= FIRING_DURING_OUTAGE else None

    states: dict[str, Any] = wait_until("the outage alerts to go pending", outage_alerts_active)
    assert set(states) == {rule["alert"] for rule in alert_rules()}
    for name, state in states.items():
        assert (state != "inactive") == (name in FIRING_DURING_OUTAGE), (name, state)


def test_access_log_has_one_line_per_request_and_no_secrets(scenario: Scenario) -> None:
    gateway = scenario.stack.gateway

    def access_lines() -> list[dict[str, Any]]:
        entries = [json.loads(line) for line in gateway.stdout_path.read_text().splitlines()
                   if line.startswith("{")]  # fmt: skip
        return [e for e in entries if e.get("log") == "access"]

    # The writer thread flushes a few times a second: wait (bounded) for the last lines.
    wait_until("the access log", lambda: len(access_lines()) >= scenario.sent)
    access = access_lines()
    assert len(access) == scenario.sent
    assert (
        Counter(e["status"] for e in access)
        == scenario.healthy.statuses + scenario.failing.statuses
    )
    assert {e["upstream_api_version"] for e in access} == {6}
    assert all("?" not in e["path"] for e in access)
    everything = gateway.output()
    for secret in (APP_SECRET, MASTER_SECRET, USER_PASSWORD, QUERY_SECRET):
        assert secret not in everything
    assert "Basic " not in everything and "Authorization" not in everything
    for line in gateway.stderr_path.read_text().splitlines():  # app logs: JSON lines on stderr
        assert yaml.safe_load(line)["level"] in {"debug", "info", "warning", "error", "critical"}
