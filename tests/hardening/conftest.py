"""Shared fixtures: the version-change tests' gateway in front of the emulator and HTTP
session, and the transport tests' byte-scripted upstream."""

from tests.changes.conftest import http_session, start_gateway_on_emulator
from tests.upstream.conftest import upstream

__all__ = ["http_session", "start_gateway_on_emulator", "upstream"]
