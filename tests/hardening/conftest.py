"""The version-change fixtures (a gateway in front of the emulator, one HTTP session), shared."""

from tests.changes.conftest import http_session, start_gateway_on_emulator

__all__ = ["http_session", "start_gateway_on_emulator"]
