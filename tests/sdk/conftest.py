"""Fixtures for the real-SDK tests: installed flavours, emulators and gateways as processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sdk.harness import (
    FLAVOURS,
    Service,
    emulator,
    ensure_installed,
    gateway,
    require_node_and_npm,
)


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, after ``npm ci`` of every flavour whose node_modules is missing or stale."""
    node_bin, npm_bin = require_node_and_npm()
    for flavour in FLAVOURS:
        ensure_installed(flavour, npm_bin)
    return node_bin


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sdk-services")


@pytest.fixture(scope="module")
def v6_only_emulator(logs: Path) -> Iterator[Service]:
    with emulator((6, 6, 6), logs) as service:
        yield service


@pytest.fixture(scope="module")
def gateway_pinned_to_6(v6_only_emulator: Service, logs: Path) -> Iterator[Service]:
    with gateway(v6_only_emulator.url, 6, logs) as service:
        yield service


@pytest.fixture(scope="module")
def v5_only_emulator(logs: Path) -> Iterator[Service]:
    with emulator((5, 5, 5), logs) as service:
        yield service


@pytest.fixture(scope="module")
def gateway_pinned_to_5(v5_only_emulator: Service, logs: Path) -> Iterator[Service]:
    with gateway(v5_only_emulator.url, 5, logs) as service:
        yield service


@pytest.fixture(scope="module")
def all_versions_emulator(logs: Path) -> Iterator[Service]:
    with emulator((0, 6, 6), logs) as service:
        yield service
