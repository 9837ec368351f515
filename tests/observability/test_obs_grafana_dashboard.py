"""deploy/grafana/kinvey-gateway.json: generated, well-formed, typed, valid PromQL.

The queries are also run against a real Prometheus scraping a real gateway in
test_obs_live_prometheus.py.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest

from tests.observability.grafana import (
    DASHBOARD,
    load_dashboard,
    load_generator,
    panel_queries,
    substitute,
    variable_names,
)
from tests.observability.test_obs_metrics import DOCUMENTED, SHADOW_DOCUMENTED
from tests.observability.tools import require_grafana_schema

DS = {"type": "prometheus", "uid": "${datasource}"}


def test_committed_json_is_the_generators_output() -> None:
    assert DASHBOARD.read_text() == load_generator().render(), (
        "run: python deploy/grafana/generate_dashboard.py"
    )


def test_layout_ids_and_datasources() -> None:
    dashboard = load_dashboard()
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        area = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])}  # fmt: skip
        assert not cells & area, f"{panel['title']} overlaps another panel"
        cells |= area
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DS, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DS and target["expr"].strip(), panel["title"]
    assert dashboard["uid"] == "kinvey-gateway" and dashboard["schemaVersion"] >= 36


def test_template_variables() -> None:
    dashboard = load_dashboard()
    assert variable_names(dashboard) == ["datasource", "namespace", "pod", "route", "api_version"]
    by_name = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert by_name["datasource"]["type"] == "datasource"
    assert by_name["datasource"]["query"] == "prometheus"
    for name in ("namespace", "pod", "route", "api_version"):
        variable = by_name[name]
        assert variable["datasource"] == DS and variable["includeAll"] is True
        assert variable["allValue"] == ".*"
        assert variable["query"]["query"].startswith("label_values(")


def test_the_brief_s_panels_exist() -> None:
    titles = " | ".join(title for title, _ in panel_queries(load_dashboard())).lower()
    for needle in (
        "requests / s", "5xx ratio", "p50 / p95 / p99", "by client api version", "by route",
        "by status class", "made by the gateway", "gateway vs upstream", "translations / s",
        "auth exchanges", "in flight", "opened vs reused", "cpu", "memory",
        "releases still calling", "would be refused",
    ):  # fmt: skip
        assert needle in titles, needle


def test_every_query_parses_and_names_only_exported_metrics() -> None:
    documented = set()
    for name, (kind, _) in {**DOCUMENTED, **SHADOW_DOCUMENTED}.items():
        documented |= {f"{name}_total"} if kind == "counter" else {name}
        if kind == "histogram":
            documented |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    process = {"process_cpu_seconds_total", "process_resident_memory_bytes"}
    used: set[str] = set()
    for title, expr in panel_queries(load_dashboard()):
        plain = substitute(expr)
        try:
            promql_parser.parse(plain)
        except ValueError as error:  # pragma: no cover - the message is the point
            pytest.fail(f"{title}: {error}\n{plain}")
        used |= set(re.findall(r"\b((?:kgw|process)_[a-z_]+)\b", plain))
    assert used <= documented | process, used - documented - process
    must_use = {
        "kgw_http_requests_total", "kgw_translations_total", "kgw_auth_exchanges_total",
        "kgw_upstream_connections_reused_total", "kgw_gateway_errors_total",
    }  # fmt: skip
    assert must_use <= used


def test_substitution_fails_loudly_on_a_broken_query() -> None:
    with pytest.raises(ValueError):
        promql_parser.parse(
            substitute('sum(rate(kgw_http_requests_total{pod=~"$pod"}[$__rate_interval])')
        )


def _typescript_literal(dashboard: dict[str, Any]) -> str:
    return json.dumps(dashboard, indent=2)


def test_dashboard_type_checks_against_grafana_schema(tmp_path: Path) -> None:
    schema_dir = require_grafana_schema()
    (tmp_path / "node_modules").symlink_to(schema_dir / "node_modules")
    (tmp_path / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {"strict": True, "noEmit": True, "module": "nodenext",
                            "moduleResolution": "nodenext", "skipLibCheck": True},
        "files": ["check.ts"],
    }))  # fmt: skip
    tsc = str(schema_dir / "node_modules" / ".bin" / "tsc")

    def check(dashboard: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        (tmp_path / "check.ts").write_text(
            "import type { Dashboard } from '@grafana/schema';\n"
            f"export const dashboard: Dashboard = {_typescript_literal(dashboard)};\n"
        )
        return subprocess.run([tsc, "-p", str(tmp_path)], capture_output=True, text=True,
                              check=False)  # fmt: skip

    result = check(load_dashboard())
    assert result.returncode == 0, result.stdout + result.stderr

    # The same check rejects a typo: it is really looking.
    broken = load_dashboard()
    broken["panels"][1]["gridPos"]["wdith"] = broken["panels"][1]["gridPos"].pop("w")
    broken_result = check(broken)
    assert broken_result.returncode != 0 and "wdith" in broken_result.stdout
