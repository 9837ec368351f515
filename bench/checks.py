"""Before timing anything: one request per case and target, checked for the right answer.

A fast wrong answer is worthless, and wrk only counts non-2xx/3xx statuses, so the exact
status, the empty 204 and the echoed version header are checked here once per run.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping

from multidict import CIMultiDict

from bench import fixtures as fx
from bench.cases import GATEWAYS, Case


def judge(case: Case, target: str, status: int, headers: Mapping[str, str], body: bytes) -> str:
    """``"ok"`` or what is wrong with this answer; ``headers`` must be case-insensitive."""
    problems: list[str] = []
    want = case.expected_status(target)
    if status != want:
        problems.append(f"status {status}, expected {want}: {body[:200]!r}")
    if status == 204 and (body or "Content-Type" in headers):
        problems.append("204 carries a body or a Content-Type")
    if target in GATEWAYS:
        asked = dict(case.headers)["X-Kinvey-API-Version"]
        echoed = headers.get("X-Kinvey-API-Version")
        if echoed != asked:
            problems.append(f"X-Kinvey-API-Version {echoed!r}, expected {asked!r}")
    if case.transfer == "down" and status == 200 and len(body) != fx.BIG_BODY_BYTES:
        problems.append(f"downloaded {len(body)} bytes, expected {fx.BIG_BODY_BYTES}")
    return "; ".join(problems) or "ok"


def request_body(case: Case, big_body: bytes) -> bytes | None:
    if case.body is None:
        return None
    return big_body if case.body == "@big" else case.body.encode()


def check_target(base_url: str, case: Case, target: str, big_body: bytes) -> str:
    request = urllib.request.Request(
        base_url + case.path,
        data=request_body(case, big_body),
        method=case.method,
        headers=dict(case.headers_for(target)),
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, headers, body = exc.code, exc.headers, exc.read()
    except OSError as exc:
        return f"no answer: {exc}"
    return judge(case, target, status, CIMultiDict(headers.items()), body)
