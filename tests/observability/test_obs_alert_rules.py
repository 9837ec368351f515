"""deploy/prometheus/rules.yaml: valid for promtool, unit-tested by rules_test.yaml."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from tests.observability.tools import REPO, require_binary

RULES = REPO / "deploy" / "prometheus" / "rules.yaml"
RULES_TEST = REPO / "deploy" / "prometheus" / "rules_test.yaml"
EXPECTED_ALERTS = {
    "KinveyGatewayHigh5xxRatio",
    "KinveyGatewayUpstreamUnreachable",
    "KinveyGatewayTranslationErrors",
    "KinveyGatewayHighAddedLatency",
    "KinveyGatewayRetiredApiVersionReturned",
    "KinveyGatewayRetiredReleaseCalling",
    "KinveyGatewayShadowDifferences",
}


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def promtool(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    binary = require_binary("promtool", "prometheus")
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(EXPECTED_ALERTS)} rules found" in result.stdout


def test_promtool_unit_tests_of_every_alert() -> None:
    result = promtool("test", "rules", RULES_TEST.name, cwd=RULES_TEST.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULES_TEST.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    assert tested == EXPECTED_ALERTS  # each alert has a case where it must fire


def test_every_alert_is_documented_and_parses() -> None:
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} == EXPECTED_ALERTS
    docs = (REPO / "docs" / "observability.md").read_text()
    for rule in rules:
        promql_parser.parse(rule["expr"])
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert rule["alert"] in docs


def test_a_broken_rule_file_is_rejected(tmp_path: Path) -> None:
    # The check above must be able to fail: the same tool on a broken copy.
    broken = RULES.read_text().replace("sum by (namespace) (rate(", "sum by (namespace) (rate((", 1)
    path = tmp_path / "rules.yaml"
    path.write_text(broken)
    result = promtool("check", "rules", str(path))
    assert result.returncode != 0
