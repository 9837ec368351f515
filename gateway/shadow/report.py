"""``kinvey-gateway shadow-report --admin URL``: the verdict per client version, from a running
gateway's ``GET /shadow``. Exit status: 0 when every client version that was compared shows no
difference, 1 when one differs, 3 when nothing was compared yet (or shadow is off)."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections import defaultdict
from typing import Any

RESULTS = ("same", "differs", "noise", "error", "skipped")


def add_shadow_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin",
        metavar="URL",
        default="http://127.0.0.1:9090",
        help="the gateway's admin listener (default: %(default)s)",
    )


def cmd_shadow_report(args: argparse.Namespace) -> int:
    url = args.admin.rstrip("/") + "/shadow"
    with urllib.request.urlopen(url, timeout=10) as answer:
        report: dict[str, Any] = json.load(answer)
    lines, status = render_report(report)
    sys.stdout.write("\n".join(lines) + "\n")
    return status


def render_report(report: dict[str, Any]) -> tuple[list[str], int]:
    if not report.get("enabled"):
        return ["shadow comparison is off (set shadow.candidate_api_version)"], 3
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(RESULTS, 0))
    differing_routes: dict[str, set[str]] = defaultdict(set)
    for row in report["totals"]:
        counts[row["api_version"]][row["result"]] += row["count"]
        if row["result"] == "differs":
            differing_routes[row["api_version"]].add(row["route"])
    fields: dict[str, set[str]] = defaultdict(set)
    for sample in report["samples"]:
        fields[str(sample["client_version"])].update(
            f"{sample['route']} {path}" for path in sample["fields"]
        )
    candidate = report["candidate_api_version"]
    lines = [
        f"shadow comparison at candidate pin {candidate} "
        f"(sampling {report['sample_ratio']:.0%} of eligible reads)",
        f"{'client':<8}{'compared':>9}{'same':>7}{'differs':>9}{'noise':>7}"
        f"{'error':>7}{'skipped':>9}  verdict",
    ]
    any_compared = any_differs = False
    for version in sorted(counts, key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0)):
        c = counts[version]
        compared = c["same"] + c["differs"] + c["noise"]
        any_compared |= compared > 0
        any_differs |= c["differs"] > 0
        if c["differs"]:
            verdict = "DIFFERS on " + ", ".join(sorted(differing_routes[version]))
        elif compared:
            verdict = f"safe: no differences in {compared} comparisons"
        else:
            verdict = "not compared yet"
        lines.append(
            f"v{version:<7}{compared:>9}{c['same']:>7}{c['differs']:>9}{c['noise']:>7}"
            f"{c['error']:>7}{c['skipped']:>9}  {verdict}"
        )
        lines.extend(f"          {field}" for field in sorted(fields.get(version, ())))
    if any_differs:
        return [*lines, f"NOT safe to raise the pin to {candidate} yet."], 1
    if not any_compared:
        return [*lines, "No comparisons yet: keep shadow on while traffic flows."], 3
    return [*lines, f"Every compared client version answers the same at {candidate}."], 0
