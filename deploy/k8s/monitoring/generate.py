"""Generate the monitoring component's files from their single sources of truth.

* ``deploy/prometheus/rules.yaml`` (a Prometheus rule file) -> ``generated/prometheusrule.yaml``,
  a prometheus-operator PrometheusRule carrying the same groups, unchanged;
* ``deploy/grafana/kinvey-gateway.json`` -> ``generated/kinvey-gateway.json``, a byte-for-byte
  copy, because kustomize's configMapGenerator may only read files inside its own root.

Run ``python deploy/k8s/monitoring/generate.py`` after editing either source and commit the
result; ``--check`` exits 1 if the committed files are stale (tests/deploy runs that check).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
RULES_SOURCE = REPO / "deploy" / "prometheus" / "rules.yaml"
DASHBOARD_SOURCE = REPO / "deploy" / "grafana" / "kinvey-gateway.json"
GENERATED = HERE / "generated"
RULE_OUTPUT = GENERATED / "prometheusrule.yaml"
DASHBOARD_OUTPUT = GENERATED / "kinvey-gateway.json"

HEADER = (
    "# GENERATED from deploy/prometheus/rules.yaml by deploy/k8s/monitoring/generate.py.\n"
    "# Do not edit: change the source and re-run the script.\n"
)


class SourceError(Exception):
    """A source file is missing or not what the generator expects."""


class _IndentedDumper(yaml.SafeDumper):
    """Indents block sequences under their key, as yamllint's default style wants."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Multi-line PromQL and descriptions stay readable as literal blocks.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_IndentedDumper.add_representer(str, _str_representer)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(
            f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path} is missing: "
            f"the {what} is the source this generator copies from"
        ) from None


def render_prometheus_rule(rules_text: str) -> str:
    """A PrometheusRule manifest whose spec.groups are the rule file's groups."""
    data: Any = yaml.safe_load(rules_text)
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise SourceError("rules file: expected a mapping with a 'groups' list")
    if not data["groups"]:
        raise SourceError("rules file: 'groups' is empty")
    manifest = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "kinvey-gateway",
            "labels": {"app.kubernetes.io/name": "kinvey-gateway"},
        },
        "spec": {"groups": data["groups"]},
    }
    body = yaml.dump(
        manifest, Dumper=_IndentedDumper, sort_keys=False, width=4096, allow_unicode=True
    )
    return HEADER + body


def render_dashboard(dashboard_text: str) -> str:
    """The dashboard unchanged, after checking it is a JSON object."""
    try:
        data = json.loads(dashboard_text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"dashboard: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SourceError("dashboard: the top level must be a JSON object")
    return dashboard_text


def expected_outputs(
    rules_source: Path = RULES_SOURCE, dashboard_source: Path = DASHBOARD_SOURCE
) -> dict[Path, str]:
    """Every generated file and the text it must have."""
    return {
        RULE_OUTPUT: render_prometheus_rule(_read(rules_source, "Prometheus rule file")),
        DASHBOARD_OUTPUT: render_dashboard(_read(dashboard_source, "Grafana dashboard")),
    }


def stale_outputs(expected: dict[Path, str]) -> list[Path]:
    """Generated files whose committed text differs from what the sources give."""
    stale = []
    for path, text in expected.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if outputs are stale")
    parser.add_argument("--rules", type=Path, default=RULES_SOURCE, help=argparse.SUPPRESS)
    parser.add_argument("--dashboard", type=Path, default=DASHBOARD_SOURCE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        expected = expected_outputs(args.rules, args.dashboard)
    except SourceError as exc:
        print(f"generate.py: {exc}", file=sys.stderr)
        return 2
    if args.check:
        stale = stale_outputs(expected)
        for path in stale:
            print(f"stale: {path.relative_to(REPO)} (run {Path(__file__).relative_to(REPO)})")
        return 1 if stale else 0
    GENERATED.mkdir(exist_ok=True)
    for path, text in expected.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
