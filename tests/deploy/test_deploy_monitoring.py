"""The monitoring component: CRD objects match their schemas; generated files are current.

The PrometheusRule and the dashboard ConfigMap are generated from deploy/prometheus/rules.yaml
and deploy/grafana/kinvey-gateway.json by deploy/k8s/monitoring/generate.py; these tests fail,
naming the missing file or the command to run, when a source is absent or a copy is stale.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import yaml
from deploy_support import K8S, REPO, Manifest, one

SCHEMAS = Path(__file__).parent / "schemas"
MONITORED = "overlays/standalone-monitoring"
RULES_SOURCE = REPO / "deploy" / "prometheus" / "rules.yaml"
DASHBOARD_SOURCE = REPO / "deploy" / "grafana" / "kinvey-gateway.json"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "k8s_monitoring_generate", K8S / "monitoring" / "generate.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _validator(kind: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / f"{kind.lower()}_v1.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


@pytest.mark.parametrize("kind", ["ServiceMonitor", "PrometheusRule"])
def test_crd_objects_match_their_schemas(rendered: dict[str, list[Manifest]], kind: str) -> None:
    document = one(rendered[MONITORED], kind)
    errors = [e.message for e in _validator(kind).iter_errors(document)]
    assert not errors, errors


def test_service_monitor_schema_rejects_a_misspelt_endpoint_field(
    rendered: dict[str, list[Manifest]],
) -> None:
    document = copy.deepcopy(one(rendered[MONITORED], "ServiceMonitor"))
    document["spec"]["endpoints"][0]["intervall"] = "30s"
    assert not _validator("ServiceMonitor").is_valid(document)
    document["spec"]["endpoints"][0].pop("intervall")
    document["spec"]["endpoints"][0]["interval"] = "30 seconds"
    assert not _validator("ServiceMonitor").is_valid(document)


def test_prometheus_rule_schema_rejects_a_rule_without_expr(
    rendered: dict[str, list[Manifest]],
) -> None:
    document = copy.deepcopy(one(rendered[MONITORED], "PrometheusRule"))
    document["spec"]["groups"][0]["rules"][0].pop("expr")
    assert not _validator("PrometheusRule").is_valid(document)


@pytest.mark.parametrize(
    ("source", "owner"),
    [(RULES_SOURCE, "the alert rules"), (DASHBOARD_SOURCE, "the Grafana dashboard")],
)
def test_monitoring_sources_exist(source: Path, owner: str) -> None:
    assert source.is_file(), (
        f"{source.relative_to(REPO)} is missing ({owner}); the monitoring component is "
        "generated from it by deploy/k8s/monitoring/generate.py"
    )


def test_generated_files_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(K8S / "monitoring" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, (
        f"{done.stdout}{done.stderr}run: python deploy/k8s/monitoring/generate.py"
    )


def test_rendered_rule_and_dashboard_carry_the_sources_unchanged(
    rendered: dict[str, list[Manifest]],
) -> None:
    rule = one(rendered[MONITORED], "PrometheusRule")
    assert (
        rule["spec"]["groups"] == yaml.safe_load(RULES_SOURCE.read_text(encoding="utf-8"))["groups"]
    )
    dashboard = one(rendered[MONITORED], "ConfigMap", "kinvey-gateway-dashboard")
    assert dashboard["data"]["kinvey-gateway.json"] == DASHBOARD_SOURCE.read_text(encoding="utf-8")


SAMPLE_RULES = """\
groups:
  - name: sample
    rules:
      - alert: Sample
        expr: |
          sum(rate(kgw_http_requests_total{code=~"5.."}[5m]))
            / sum(rate(kgw_http_requests_total[5m])) > 0.05
        for: 10m
        labels: {severity: warning}
        annotations: {summary: "5xx ratio: {{ $value | humanizePercentage }}"}
"""


def test_generator_keeps_rule_groups_exactly() -> None:
    generator = _generator()
    text = generator.render_prometheus_rule(SAMPLE_RULES)
    assert text.startswith("# GENERATED")
    manifest: dict[str, Any] = yaml.safe_load(text)
    assert manifest["kind"] == "PrometheusRule"
    assert manifest["spec"]["groups"] == yaml.safe_load(SAMPLE_RULES)["groups"]
    assert _validator("PrometheusRule").is_valid(manifest)


@pytest.mark.parametrize("bad", ["", "rules: []", "groups: []", "groups: {a: 1}"])
def test_generator_rejects_a_rule_file_without_groups(bad: str) -> None:
    generator = _generator()
    with pytest.raises(generator.SourceError):
        generator.render_prometheus_rule(bad)


def test_generator_reports_a_missing_source(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(K8S / "monitoring" / "generate.py"),
            "--check",
            "--rules",
            str(tmp_path / "absent.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "absent.yaml is missing" in done.stderr


def test_generator_flags_a_stale_copy(tmp_path: Path) -> None:
    generator = _generator()
    current = tmp_path / "current.yaml"
    current.write_text("old\n", encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    assert generator.stale_outputs({current: "new\n", missing: "x"}) == [current, missing]
    assert generator.stale_outputs({current: "old\n"}) == []
