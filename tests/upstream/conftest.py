"""The version-change tests' gateway-in-front-of-the-emulator fixtures, for the pool cases."""

from tests.changes.conftest import http_session, start_gateway_on_emulator

__all__ = ["http_session", "start_gateway_on_emulator"]
