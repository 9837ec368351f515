"""The benchmark harness's pure parts: wrk output, scripts, fixtures, checks, tables, verdicts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from multidict import CIMultiDict

from bench import checks, nginx_conf, report, wrk
from bench import fixtures as fx
from bench.cases import CASES_BY_NAME, GATEWAY, NGINX, PLAIN
from bench.soak_report import Sample, verdict

# What wrk 4.1 printed for a real run with a script from render_lua (see test_bench_tools).
WRK_OUTPUT = """\
Running 1s test @ http://127.0.0.1:18555/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   177.43us   57.53us   2.02ms   95.47%
  24923 requests in 1.10s, 3.66MB read
Requests/sec:  22670.26
BENCH_RESULT {"requests":24923,"duration_us":1099370,"bytes":3838142,"connect":1,"read":2,\
"write":0,"status":5,"timeout":3,"p50_us":166,"p90_us":203,"p99_us":293,"p999_us":1156,\
"max_us":2015,"mean_us":177.4}
"""


def test_parse_result_reads_the_done_line() -> None:
    result = wrk.parse_result(WRK_OUTPUT)
    assert result.requests == 24923
    assert result.duration_s == pytest.approx(1.09937)
    assert result.requests_per_s == pytest.approx(24923 / 1.09937)
    assert (result.p50_ms, result.p99_ms, result.max_ms) == (0.166, 0.293, 2.015)
    assert result.socket_errors == 6  # connect + read + write + timeout
    assert result.status_errors == 5
    assert result.errors == 11
    assert result.to_json()["errors"] == 11


def test_parse_result_without_the_line_is_an_error() -> None:
    with pytest.raises(wrk.WrkOutputError, match="no BENCH_RESULT"):
        wrk.parse_result("Running 1s test @ http://127.0.0.1:1/\nRequests/sec: 1.0\n")


def test_render_lua_sets_method_headers_and_body_file(tmp_path: Any) -> None:
    body = tmp_path / "body.json"
    script = wrk.render_lua("POST", (("X-Kinvey-API-Version", "6"), ("A", 'q"uote')), body)
    assert 'wrk.method = "POST"' in script
    assert 'wrk.headers["X-Kinvey-API-Version"] = "6"' in script
    assert 'wrk.headers["A"] = "q\\"uote"' in script
    assert json.dumps(str(body)) in script
    assert "done = function(summary, latency, requests)" in script
    assert "wrk.body" not in wrk.render_lua("GET", (), None)


def test_render_lua_refuses_non_ascii() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        wrk.render_lua("GET", (("X-Name", "café"),), None)


def test_fixture_sizes_are_exact_and_json() -> None:
    assert len(fx.ENTITY_JSON.encode()) == fx.ENTITY_BYTES == 307
    assert len(fx.POST_BODY_JSON.encode()) == fx.POST_BODY_BYTES == 1024
    for text in (fx.ENTITY_JSON, fx.POST_BODY_JSON, fx.BLOB_METADATA_JSON, fx.DELETE_COUNT_JSON):
        assert isinstance(json.loads(text), dict)


def test_nginx_literal_refuses_what_nginx_would_interpret() -> None:
    for bad in ("it's", "a$b", "back\\slash"):
        with pytest.raises(ValueError):
            nginx_conf._literal(bad)
    assert nginx_conf._literal('{"a":1}') == "'{\"a\":1}'"


def _headers(**values: str) -> CIMultiDict[str]:
    return CIMultiDict({k.replace("_", "-"): v for k, v in values.items()})


def test_judge_accepts_a_right_answer_and_names_each_problem() -> None:
    delete = CASES_BY_NAME["delete-v1"]
    assert checks.judge(delete, GATEWAY, 204, _headers(X_Kinvey_API_Version="1"), b"") == "ok"
    assert checks.judge(delete, NGINX, 200, _headers(), b'{"count":1}') == "ok"
    wrong = checks.judge(delete, GATEWAY, 200, _headers(x_kinvey_api_version="6"), b"{}")
    assert "status 200, expected 204" in wrong
    assert "X-Kinvey-API-Version '6', expected '1'" in wrong
    assert "carries a body" in checks.judge(
        delete, PLAIN, 204, _headers(Content_Type="application/json"), b""
    )
    download = CASES_BY_NAME["download-10m"]
    assert "downloaded 3 bytes" in checks.judge(download, NGINX, 200, _headers(), b"abc")


def test_blob_case_adds_the_header_only_for_targets_that_cannot() -> None:
    blob = CASES_BY_NAME["blob-v3"]
    assert ("X-Kinvey-Content-Type", "image/png") in blob.headers_for(PLAIN)
    assert ("X-Kinvey-Content-Type", "image/png") in blob.headers_for(NGINX)
    assert all(name != "X-Kinvey-Content-Type" for name, _ in blob.headers_for(GATEWAY))


def _sample(
    target: str, rps: float, cpu: float, errors: int = 0, case: str = "get"
) -> dict[str, Any]:
    return {
        "case": case,
        "target": target,
        "requests_per_s": rps,
        "cpu_us_per_request": cpu,
        "p50_ms": 1.0,
        "p99_ms": 4.0,
        "errors": errors,
        "mib_per_s": None,
        "peak_rss_mib": None,
    }


def test_summarize_takes_medians_and_sums_errors() -> None:
    samples = [_sample(PLAIN, r, c, e) for r, c, e in ((100, 9, 1), (300, 1, 0), (200, 5, 2))]
    (summary,) = report.summarize(samples)
    assert (summary.requests_per_s, summary.cpu_us_per_request) == (200, 5)
    assert (summary.errors, summary.rounds) == (3, 3)
    assert summary.mib_per_s is None


def test_table_gives_gateway_figures_as_ratios_to_plain_and_nginx() -> None:
    samples = [_sample(NGINX, 1000, 20), _sample(PLAIN, 400, 200), _sample(GATEWAY, 200, 300)]
    table = report.results_table(report.summarize(samples), [CASES_BY_NAME["get"]])
    gateway_row = next(line for line in table.splitlines() if "| gateway |" in line)
    assert "200 (0.50x plain, 0.20x nginx)" in gateway_row
    assert "300 (1.50x plain, 15.00x nginx)" in gateway_row
    plain_row = next(line for line in table.splitlines() if "| plain |" in line)
    assert "x plain" not in plain_row


def test_ratio_without_a_reference_says_so() -> None:
    table = report.results_table(
        report.summarize([_sample(GATEWAY, 200, 300)]), [CASES_BY_NAME["get"]]
    )
    assert "200 (n/ax plain, n/ax nginx)" in table


def _soak(*rows: tuple[float, int, int]) -> list[Sample]:
    return [Sample(t, rss, fds, int(t * 100), 0, t / 2) for t, rss, fds in rows]


def test_soak_verdict_measures_growth_from_the_end_of_warmup() -> None:
    flat = _soak((0, 40_000, 10), (5, 50_000, 80), (10, 51_000, 81), (20, 52_000, 80))
    good = verdict(flat, warmup_s=5, max_growth_pct=5, errors={})
    assert good.passed and good.rss_growth_pct == pytest.approx(4.0)
    leaky = _soak((0, 40_000, 10), (5, 50_000, 80), (20, 53_000, 80))
    assert not verdict(leaky, warmup_s=5, max_growth_pct=5, errors={}).passed
    fd_leak = _soak((0, 40_000, 10), (5, 50_000, 80), (20, 50_000, 90))
    assert verdict(fd_leak, warmup_s=5, max_growth_pct=5, errors={}).fd_growth == 10
    assert not verdict(fd_leak, warmup_s=5, max_growth_pct=5, errors={}).passed
    failed = verdict(flat, warmup_s=5, max_growth_pct=5, errors={"get: 502": 1})
    assert not failed.passed and "get: 502 x1" in failed.text
