"""``kgw_build_info{tls_verify}`` says what is true of the configured upstreams."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from gateway.app import GatewayRuntime
from gateway.settings import load_settings


def _tls_verify(environ: dict[str, str]) -> str:
    registry = CollectorRegistry()
    quiet = {"KINVEY_GATEWAY_LOGGING_ACCESS_LOG": "false"}  # no writer thread: never started
    GatewayRuntime(load_settings(None, {**environ, **quiet}), registry=registry)
    return next(
        sample.labels["tls_verify"]
        for family in registry.collect()
        for sample in family.samples
        if sample.name == "kgw_build_info"
    )


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"KINVEY_GATEWAY_UPSTREAM_URL": "http://127.0.0.1:9"}, "none"),  # nothing to verify
        ({"KINVEY_GATEWAY_UPSTREAM_URL": "https://kvy-baas.example"}, "true"),
        (
            {
                "KINVEY_GATEWAY_UPSTREAM_URL": "https://kvy-baas.example",
                "KINVEY_GATEWAY_UPSTREAM_TLS_DANGEROUSLY_DISABLE_VERIFICATION": "true",
            },
            "false",
        ),
    ],
)
def test_tls_verify_label(environ: dict[str, str], expected: str) -> None:
    assert _tls_verify(environ) == expected
