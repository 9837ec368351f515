"""Write deploy/grafana/kinvey-gateway.json, the Grafana dashboard for the gateway's metrics.

The JSON is generated so that every panel shares one label filter and one layout rule; edit
this file, run ``python deploy/grafana/generate_dashboard.py``, commit both (a test checks the
committed JSON is this script's output, and runs every query against a real Prometheus).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("kinvey-gateway.json")
DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"

POD = 'namespace=~"$namespace", pod=~"$pod"'
ROUTE = POD + ', route=~"$route"'
VERSION = ROUTE + ', api_version=~"$api_version"'
# process_* series exist on every scrape target; keep only the gateway's (it exports build info).
GATEWAY_TARGETS = f"and on (instance) kgw_build_info{{{POD}}}"


def requests_rate(extra: str = "", by: str = "") -> str:
    selector = VERSION + (f", {extra}" if extra else "")
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate(kgw_http_requests_total{{{selector}}}[{RATE}]))"


def quantile(q: float, metric: str, selector: str, by: str = "") -> str:
    group = f"le, {by}" if by else "le"
    return (
        f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{{{selector}}}[{RATE}])))"
    )


FIVE_XX_RATE = requests_rate('code=~"5.."')
GATEWAY_P95 = quantile(0.95, "kgw_http_request_duration_seconds", ROUTE)
UPSTREAM_P95 = quantile(0.95, "kgw_upstream_request_duration_seconds", ROUTE)


class Layout:
    """Left-to-right, top-to-bottom placement on Grafana's 24-column grid."""

    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self.x = self.y = self.row_height = 0

    def _place(self, panel: dict[str, Any], w: int, h: int) -> None:
        if self.x + w > 24:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.row_height = max(self.row_height, h)
        self.panels.append(panel)

    def row(self, title: str) -> None:
        if self.x:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        self._place({"type": "row", "title": title, "collapsed": False, "panels": []}, 24, 1)
        self.x, self.y, self.row_height = 0, self.y + 1, 0

    def panel(
        self,
        kind: str,
        title: str,
        targets: list[tuple[str, str]],
        *,
        unit: str = "short",
        w: int = 12,
        h: int = 8,
        description: str = "",
        options: dict[str, Any] | None = None,
        custom: dict[str, Any] | None = None,
        instant: bool = False,
    ) -> None:
        panel: dict[str, Any] = {
            "type": kind,
            "title": title,
            "description": description,
            "datasource": DS,
            "targets": [
                {
                    "refId": chr(ord("A") + i),
                    "datasource": DS,
                    "expr": expr,
                    "legendFormat": legend,
                    "range": not instant,
                    "instant": instant,
                    **({"format": "heatmap"} if kind == "heatmap" else {}),
                }
                for i, (expr, legend) in enumerate(targets)
            ],
            "fieldConfig": {
                "defaults": {"unit": unit, "custom": custom or {}},
                "overrides": [],
            },
            "options": options or {},
        }
        self._place(panel, w, h)


STACKED = {"stacking": {"mode": "normal", "group": "A"}, "fillOpacity": 30, "lineWidth": 1}
LEGEND_TABLE = {"legend": {"displayMode": "table", "placement": "right", "calcs": ["mean", "max"]}}
STAT = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}


def build() -> dict[str, Any]:
    lay = Layout()

    lay.row("Overview")
    lay.panel("stat", "Requests / s", [(requests_rate(), "")], unit="reqps", w=4, h=4,
              options=STAT)  # fmt: skip
    lay.panel(
        "stat",
        "5xx ratio",
        [(f"({FIVE_XX_RATE} or vector(0)) / {requests_rate()}", "")],
        unit="percentunit", w=4, h=4, options=STAT,
        description="Share of answers with a 5xx status, from the upstream or the gateway.",
    )  # fmt: skip
    lay.panel(
        "stat",
        "Latency p50 / p95 / p99",
        [(quantile(q, "kgw_http_request_duration_seconds", ROUTE), f"p{int(q * 100)}")
         for q in (0.5, 0.95, 0.99)],
        unit="s", w=6, h=4, options=STAT,
    )  # fmt: skip
    lay.panel(
        "stat",
        "Upstream failure ratio",
        [(f'(sum (rate(kgw_upstream_requests_total{{{ROUTE}, outcome!="ok"}}[{RATE}])) '
          f"or vector(0)) / sum (rate(kgw_upstream_requests_total{{{ROUTE}}}[{RATE}]))", "")],
        unit="percentunit", w=4, h=4, options=STAT,
        description="Upstream calls that got no HTTP answer (connect error, timeout, ...).",
    )  # fmt: skip
    lay.panel("stat", "In flight", [(f"sum (kgw_http_requests_in_flight{{{POD}}})", "")],
              w=3, h=4, options=STAT)  # fmt: skip
    lay.panel(
        "stat",
        "Replicas",
        [(f"count (kgw_build_info{{{POD}}})", "")],
        w=3, h=4, options=STAT,
    )  # fmt: skip
    lay.panel(
        "table",
        "Gateway build and upstream pin by pod",
        [(f"max by (pod, version, upstream_api_version, tls_verify) (kgw_build_info{{{POD}}})",
          "")],
        w=24, h=5, instant=True,
        description="tls_verify=false means upstream certificate checks are OFF (never in "
        "production).",
    )  # fmt: skip

    lay.row("Traffic by client API version (retirement)")
    lay.panel(
        "timeseries",
        "Requests / s by client API version",
        [(requests_rate(by="api_version"), "v{{api_version}}")],
        unit="reqps", w=16, custom=STACKED, options=LEGEND_TABLE,
        description="A legacy version can be retired when its line stays at zero.",
    )  # fmt: skip
    lay.panel(
        "bargauge",
        "Requests in the selected range by client API version",
        [(f"sum by (api_version) (increase(kgw_http_requests_total{{{VERSION}}}[$__range]))",
          "v{{api_version}}")],
        w=8, instant=True,
        options={"orientation": "horizontal", "displayMode": "basic", **STAT},
    )  # fmt: skip
    lay.panel(
        "table",
        "Requests in the selected range by client API version and route",
        [(f"sum by (api_version, route) "
          f"(increase(kgw_http_requests_total{{{VERSION}}}[$__range])) > 0", "")],
        w=24, h=7, instant=True,
    )  # fmt: skip

    lay.row("App releases (retiring a release)")
    releases = f'kgw_client_releases_total{{{POD}, api_version=~"$api_version"}}'
    lay.panel(
        "timeseries",
        "Releases still calling: requests / s by app release",
        [(f"sum by (app_release) (rate({releases}[{RATE}]))", "{{app_release}}")],
        unit="reqps", w=12, custom=STACKED, options=LEGEND_TABLE,
        description="X-Kinvey-Client-App-Version, normalized; none = no header. The top K "
        "releases (metrics.client_release_top_k) have their own line, the rest is other.",
    )  # fmt: skip
    lay.panel(
        "timeseries",
        "Share of requests by app release",
        [(f"sum by (app_release) (rate({releases}[{RATE}])) / scalar(sum (rate({releases}"
          f"[{RATE}])))", "{{app_release}}")],
        unit="percentunit", w=12, custom=STACKED,
    )  # fmt: skip
    lay.panel(
        "table",
        "Releases still calling in the selected range: SDK and client API version",
        [(f"sum by (app_release, sdk, api_version) (increase({releases}[$__range])) > 0", "")],
        w=12, h=8, instant=True,
    )  # fmt: skip
    lay.panel(
        "table",
        "First and last seen by app release (since each pod started)",
        [(f"min by (app_release) (kgw_client_release_first_seen_timestamp_seconds{{{POD}}}) "
          "* 1000", "first seen"),
         (f"max by (app_release) (kgw_client_release_last_seen_timestamp_seconds{{{POD}}}) "
          "* 1000", "last seen")],
        unit="dateTimeAsIso", w=12, h=8, instant=True,
    )  # fmt: skip
    lay.panel(
        "timeseries",
        "Retired releases / s: refused vs would be refused (report_only)",
        [(f"sum by (app_release, mode) (rate(kgw_client_release_refusals_total{{{POD}}}"
          f"[{RATE}]))", "{{app_release}} {{mode}}")],
        unit="reqps", w=24, h=6, custom=STACKED,
        description="apps.<appKey>.min_client_app_version: report_only counts what would be "
        "refused; refused requests got 400 FeatureUnavailable without reaching the upstream.",
    )  # fmt: skip

    lay.row("Routes and status")
    lay.panel("timeseries", "Requests / s by route", [(requests_rate(by="route"), "{{route}}")],
              unit="reqps", w=12, custom=STACKED, options=LEGEND_TABLE)  # fmt: skip
    lay.panel(
        "timeseries",
        "Requests / s by status class",
        [(f'sum by (status_class) (label_replace(rate(kgw_http_requests_total{{{VERSION}}}'
          f'[{RATE}]), "status_class", "${{1}}xx", "code", "([0-9]).."))', "{{status_class}}")],
        unit="reqps", w=12, custom=STACKED,
    )  # fmt: skip
    lay.panel("timeseries", "5xx / s by route",
              [(requests_rate('code=~"5.."', by="route, code"), "{{route}} {{code}}")],
              unit="reqps", w=12)  # fmt: skip
    lay.panel("timeseries", "4xx / s by route",
              [(requests_rate('code=~"4.."', by="route, code"), "{{route}} {{code}}")],
              unit="reqps", w=12,
              description="Auth breakage after a translation bug shows up here.")  # fmt: skip

    lay.row("Errors: made by the gateway vs the upstream")
    lay.panel(
        "timeseries",
        "5xx / s: relayed from the upstream vs made by the gateway",
        [
            (f'sum (rate(kgw_upstream_request_duration_seconds_count{{{ROUTE}, '
             f'status_class="5xx"}}[{RATE}])) or vector(0)', "upstream 5xx relayed"),
            (f'sum (rate(kgw_gateway_errors_total{{{POD}, reason=~"upstream_unreachable|'
             f'upstream_timeout|overloaded|internal"}}[{RATE}])) or vector(0)',
             "gateway-made 5xx"),
        ],
        unit="reqps", w=8,
    )  # fmt: skip
    lay.panel(
        "timeseries",
        "Gateway-made answers / s by reason",
        [(f"sum by (reason) (rate(kgw_gateway_errors_total{{{POD}}}[{RATE}]))", "{{reason}}")],
        unit="reqps", w=8, custom=STACKED,
        description="Answers the gateway gave itself: version or feature refused, upstream "
        "unreachable or timed out, body too large, overload, internal error.",
    )  # fmt: skip
    lay.panel(
        "timeseries",
        "Upstream call failures / s by outcome",
        [(f'sum by (outcome) (rate(kgw_upstream_requests_total{{{ROUTE}, outcome!="ok"}}'
          f"[{RATE}]))", "{{outcome}}")],
        unit="reqps", w=8, custom=STACKED,
    )  # fmt: skip

    lay.row("Latency")
    lay.panel(
        "timeseries",
        "p95: gateway vs upstream (the gap is the gateway's cost)",
        [(GATEWAY_P95, "gateway p95"), (UPSTREAM_P95, "upstream p95"),
         (f"{GATEWAY_P95} - {UPSTREAM_P95}", "added by the gateway")],
        unit="s", w=12,
    )  # fmt: skip
    lay.panel(
        "heatmap",
        "Request duration",
        [(f"sum by (le) (increase(kgw_http_request_duration_seconds_bucket{{{ROUTE}}}"
          f"[{RATE}]))", "{{le}}")],
        w=12, options={"calculate": False, "yAxis": {"unit": "s"}},
    )  # fmt: skip
    lay.panel("timeseries", "p99 by route",
              [(quantile(0.99, "kgw_http_request_duration_seconds", ROUTE, "route"),
                "{{route}}")], unit="s", w=12)  # fmt: skip
    lay.panel("timeseries", "Upstream p99 by route",
              [(quantile(0.99, "kgw_upstream_request_duration_seconds", ROUTE, "route"),
                "{{route}}")], unit="s", w=12)  # fmt: skip

    lay.row("Translations and auth")
    lay.panel(
        "timeseries",
        "Translations / s by change",
        [(f"sum by (change, direction) (rate(kgw_translations_total{{{POD}}}[{RATE}]))",
          "{{change}} ({{direction}})")],
        unit="ops", w=12, options=LEGEND_TABLE,
        description="How often each version change runs: zero for a change means no client "
        "still needs it.",
    )  # fmt: skip
    lay.panel(
        "timeseries",
        "Translation errors by change",
        [(f"sum by (change) (increase(kgw_translation_errors_total{{{POD}}}[{RATE}]))",
          "{{change}}")],
        w=12, description="Anything above zero is a bug in that change's file.",
    )  # fmt: skip
    lay.panel(
        "timeseries",
        "Auth exchanges / s",
        [(f"sum by (kind, result, cache) (rate(kgw_auth_exchanges_total{{{POD}}}[{RATE}]))",
          "{{kind}} {{result}} (cache {{cache}})")],
        unit="ops", w=12, options=LEGEND_TABLE,
        description="Logins the gateway makes for old clients (Basic auth on a v6 upstream, "
        "login after signup).",
    )  # fmt: skip
    lay.panel(
        "timeseries",
        "Body bytes / s",
        [(f"sum (rate(kgw_http_request_size_bytes_total{{{ROUTE}}}[{RATE}]))", "received"),
         (f"sum (rate(kgw_http_response_size_bytes_total{{{ROUTE}}}[{RATE}]))", "sent")],
        unit="Bps", w=12,
    )  # fmt: skip

    lay.row("Saturation")
    lay.panel("timeseries", "In flight by pod",
              [(f"sum by (pod) (kgw_http_requests_in_flight{{{POD}}})", "{{pod}}")],
              w=6)  # fmt: skip
    lay.panel(
        "timeseries",
        "Upstream connections / s: opened vs reused",
        [(f"sum (rate(kgw_upstream_connections_created_total{{{POD}}}[{RATE}]))", "opened"),
         (f"sum (rate(kgw_upstream_connections_reused_total{{{POD}}}[{RATE}]))", "reused")],
        unit="ops", w=6,
        description="Many opened and few reused means the keep-alive pool is not working.",
    )  # fmt: skip
    lay.panel(
        "timeseries",
        "CPU by pod",
        [(f"sum by (pod) (rate(process_cpu_seconds_total{{{POD}}}[{RATE}]) "
          f"{GATEWAY_TARGETS})", "{{pod}}")],
        unit="percentunit", w=6,
        description="The gateway is one process on one core: near 100% means saturated.",
    )  # fmt: skip
    lay.panel(
        "timeseries",
        "Memory (RSS) by pod",
        [(f"sum by (pod) (process_resident_memory_bytes{{{POD}}} {GATEWAY_TARGETS})",
          "{{pod}}")],
        unit="bytes", w=6,
    )  # fmt: skip

    lay.row("Before you raise the pin (shadow comparison)")

    def shadow(results: str) -> str:
        return f'kgw_shadow_comparisons_total{{{VERSION}, result=~"{results}"}}'

    lay.panel("stat", "Candidate pin",
              [(f"max (kgw_shadow_candidate_api_version{{{POD}}})", "")], w=4, h=8,
              description="shadow.candidate_api_version; no value means shadow comparison is "
              "off.", options=STAT)  # fmt: skip
    lay.panel(
        "table",
        "Safe to raise the pin? Differences by client version and route",
        [(f"sum by (api_version, route) (increase({shadow('differs')}[$__range]))", "differs"),
         (f"sum by (api_version, route) (increase({shadow('same|differs|noise')}[$__range]))",
          "compared")],
        w=10, h=8, instant=True,
        description="Sampled reads re-asked at the candidate pin and translated back: a client "
        "version is safe when it shows comparisons and no differences over a representative "
        "time range.",
    )  # fmt: skip
    lay.panel(
        "timeseries",
        "Shadow comparisons / s by result",
        [(f"sum by (result) (rate({shadow('.+')}[{RATE}]))", "{{result}}")],
        unit="ops", w=10, h=8,
        description="`skipped`: shed under load, over budget or too large; `error`: the "
        "candidate did not answer.",
    )  # fmt: skip
    lay.panel(
        "table",
        "Differing fields",
        [(f"sum by (api_version, route, field) (increase(kgw_shadow_differing_fields_total"
          f"{{{VERSION}}}[$__range]))", "")],
        w=24, h=8, instant=True,
        description="JSON paths (ids folded) that differed at the candidate pin; "
        "GET /shadow on the admin listener shows recent samples.",
    )  # fmt: skip

    return {
        "title": "kinvey-gateway",
        "uid": "kinvey-gateway",
        "description": "Traffic through kinvey-gateway: rate, errors, latency, client API "
        "versions, translations and saturation. Metrics: docs/observability.md.",
        "tags": ["kinvey-gateway", "proxy"],
        "editable": True,
        "graphTooltip": 1,
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "timezone": "browser",
        "links": [],
        "annotations": {"list": []},
        "templating": {"list": variables()},
        "panels": lay.panels,
    }


def query_variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "query": {"query": query, "refId": f"{name}-variable"},
        "refresh": 2,
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "sort": 7,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "hide": 0,
        "regex": "",
    }


def variables() -> list[dict[str, Any]]:
    return [
        {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {"text": "default", "value": "default"},
            "options": [],
            "hide": 0,
            "refresh": 1,
            "regex": "",
        },
        query_variable("namespace", "Namespace", "label_values(kgw_build_info, namespace)"),
        query_variable("pod", "Pod", 'label_values(kgw_build_info{namespace=~"$namespace"}, pod)'),
        query_variable("route", "Route", f"label_values(kgw_http_requests_total{{{POD}}}, route)"),
        query_variable(
            "api_version",
            "Client API version",
            f"label_values(kgw_http_requests_total{{{POD}}}, api_version)",
        ),
    ]


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    sys.stdout.write(f"wrote {OUT}\n")
