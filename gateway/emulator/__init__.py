"""The built-in multi-version Kinvey emulator (an in-memory backend serving API versions 0-6).

It is written from the behaviour contract alone and never imports the gateway's versioning,
changes or proxy code, so comparing the gateway against it tests something real.
"""

from gateway.emulator.app import create_emulator_app
from gateway.emulator.config import EmulatorConfig

__all__ = ["EmulatorConfig", "create_emulator_app"]
