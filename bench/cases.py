"""What is measured: the targets (proxies under comparison) and the request cases.

Pure data. A case says which request wrk sends, how many connections, and which status each
target must answer with (checked once before the timed runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench import fixtures as fx

NGINX = "nginx"
PLAIN = "plain"
GATEWAY = "gateway"
GATEWAY_NO_METRICS = "gateway-nometrics"
# The gateway with shadow comparison on (candidate pin 5) for 10% / 100% of the reads.
GATEWAY_SHADOW_10 = "gateway-shadow10"
GATEWAY_SHADOW_100 = "gateway-shadow100"
SHADOW_SAMPLE_RATIOS = {GATEWAY_SHADOW_10: "0.1", GATEWAY_SHADOW_100: "1.0"}
ALL_TARGETS = (NGINX, PLAIN, GATEWAY, GATEWAY_NO_METRICS, GATEWAY_SHADOW_10, GATEWAY_SHADOW_100)
GATEWAYS = (GATEWAY, GATEWAY_NO_METRICS, GATEWAY_SHADOW_10, GATEWAY_SHADOW_100)
# Targets that cannot add X-Kinvey-Content-Type: their client sends it already, so they
# are measured proxying the already-correct request (the cost the gateway adds is the ratio).
NON_TRANSLATING_REQUESTS = (NGINX, PLAIN)

Headers = tuple[tuple[str, str], ...]
_JSON = ("Content-Type", "application/json")
_AUTH = ("Authorization", fx.SESSION_AUTH)


def _client(version: int, *more: tuple[str, str]) -> Headers:
    return (("X-Kinvey-API-Version", str(version)), _AUTH, *more)


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    method: str
    path: str
    headers: Headers
    body: str | None = None  # "@big" = the 10 MiB upload body
    connections: int = 64
    expect: int = 200
    expect_by_target: dict[str, int] = field(default_factory=dict)
    baseline_headers: Headers = ()  # added for NON_TRANSLATING_REQUESTS targets
    transfer: str | None = None  # "down" / "up": report MiB/s and peak RSS
    targets: tuple[str, ...] = (NGINX, PLAIN, GATEWAY)

    def expected_status(self, target: str) -> int:
        return self.expect_by_target.get(target, self.expect)

    def headers_for(self, target: str) -> Headers:
        extra = self.baseline_headers if target in NON_TRANSLATING_REQUESTS else ()
        return self.headers + extra


BIG_BODY = "@big"

CASES: tuple[Case, ...] = (
    Case(
        "get",
        "pass-through GET (v6 client = pin)",
        "GET",
        fx.ENTITY_PATH,
        _client(6),
        targets=(NGINX, PLAIN, GATEWAY, GATEWAY_NO_METRICS, GATEWAY_SHADOW_10, GATEWAY_SHADOW_100),
    ),
    Case(
        "post-1k",
        "pass-through POST, 1 KiB JSON",
        "POST",
        fx.COLLECTION_PATH,
        _client(6, _JSON),
        body=fx.POST_BODY_JSON,
        expect=201,
    ),
    Case(
        "delete-v1",
        "translated response: v1 DELETE, 200 {count} -> 204",
        "DELETE",
        fx.ENTITY_PATH,
        _client(1),
        expect=204,
        expect_by_target={NGINX: 200},  # nginx relays the upstream's answer untranslated
    ),
    Case(
        "blob-v3",
        "translated request: v3 POST /blob, gateway adds X-Kinvey-Content-Type",
        "POST",
        fx.BLOB_PATH,
        _client(3, _JSON),
        body=fx.BLOB_REQUEST_JSON,
        expect=201,
        baseline_headers=(("X-Kinvey-Content-Type", "image/png"),),
    ),
    Case(
        "download-10m",
        "10 MiB download (streamed)",
        "GET",
        fx.DOWNLOAD_PATH,
        _client(6),
        connections=8,
        transfer="down",
    ),
    Case(
        "upload-10m",
        "10 MiB upload (streamed)",
        "PUT",
        fx.UPLOAD_PATH,
        _client(6, ("Content-Type", "application/octet-stream")),
        body=BIG_BODY,
        connections=8,
        expect=201,
        transfer="up",
    ),
    Case(
        "get-c50",
        "pass-through GET at 50 connections (p99)",
        "GET",
        fx.ENTITY_PATH,
        _client(6),
        connections=50,
        targets=(NGINX, PLAIN, GATEWAY, GATEWAY_SHADOW_10, GATEWAY_SHADOW_100),
    ),
)

CASES_BY_NAME = {case.name: case for case in CASES}
