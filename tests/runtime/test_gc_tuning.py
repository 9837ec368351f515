"""The serving process freezes its start-up objects and collects the young generation rarely."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gateway.app import GC_GEN0_THRESHOLD, GatewayRuntime
from gateway.settings import Settings, load_settings


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def _settings() -> Settings:
    overrides = {
        "upstream.url": "http://127.0.0.1:9",
        "upstream.api_version": 6,
        "listen": "127.0.0.1:0",
        "admin_listen": "127.0.0.1:0",
        "logging.access_log": False,
    }
    return load_settings(None, {}, overrides)


@pytest.mark.parametrize("tune", [True, False])
async def test_gc_is_tuned_only_when_serving(restored_gc: None, tune: bool) -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    runtime = GatewayRuntime(_settings(), tune_gc=tune)
    await runtime.start()
    try:
        if tune:
            assert gc.get_threshold()[0] == GC_GEN0_THRESHOLD
            assert gc.get_threshold()[1:] == before[1:]
            assert gc.get_freeze_count() > 1000  # modules, the route table, the metrics
        else:
            assert gc.get_threshold() == before
            assert gc.get_freeze_count() == 0
    finally:
        await runtime.stop()
