"""Read the Grafana dashboard's queries and make them plain PromQL (what Grafana sends)."""

from __future__ import annotations

import importlib.util
import json
import re
from types import ModuleType
from typing import Any

from tests.observability.tools import REPO

DASHBOARD = REPO / "deploy" / "grafana" / "kinvey-gateway.json"
GENERATOR = REPO / "deploy" / "grafana" / "generate_dashboard.py"

# What Grafana puts in place of its built-in variables; "All" of a variable is ".*".
BUILTINS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m"}
ALL = ".*"


def load_dashboard() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return dashboard


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_dashboard", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title + refId, expr) for every target of every panel, rows included."""
    queries = []
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []):
                queries.append((f"{inner['title']} [{target['refId']}]", target["expr"]))
    return queries


def variable_names(dashboard: dict[str, Any]) -> list[str]:
    return [v["name"] for v in dashboard["templating"]["list"]]


def substitute(expr: str, values: dict[str, str] | None = None) -> str:
    """Replace Grafana variables: built-ins by durations, template variables by ``values``
    (default: "All", i.e. ``.*``). ``${1}`` is a label_replace group, not a variable."""
    for name, value in BUILTINS.items():
        expr = expr.replace(name, value)
    values = values or {}

    def replace(match: re.Match[str]) -> str:
        return values.get(match.group(1) or match.group(2), ALL)

    expr = re.sub(r"\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)", replace, expr)
    assert "$" not in expr.replace("${1}", ""), expr
    return expr
