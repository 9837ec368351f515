"""Fixtures of the transport tests: a byte-scripted upstream, and the version-change tests'
gateway-in-front-of-the-emulator fixtures for the pool cases."""

from collections.abc import AsyncIterator

import pytest

from tests.changes.conftest import http_session, start_gateway_on_emulator
from tests.upstream.scripted_upstream import ScriptedUpstream

__all__ = ["http_session", "start_gateway_on_emulator", "upstream"]


@pytest.fixture
async def upstream() -> AsyncIterator[ScriptedUpstream]:
    server = ScriptedUpstream()
    await server.start()
    yield server
    await server.stop()
