"""Version changes added for one test, discovered exactly like the files in gateway/changes/.

``add_changes(tmp_path, monkeypatch, {"v7_name": source})`` writes the modules where the
changes package looks, rediscovers the bundle and installs it wherever the gateway holds it;
everything is undone when the test ends.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import gateway.app
import gateway.changes as changes
from gateway.versioning.bundle import VersionBundle


def add_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sources: dict[str, str]
) -> VersionBundle:
    for module, source in sources.items():
        (tmp_path / f"{module}.py").write_text(source)
        # dropped from sys.modules at teardown, so no later test sees the added change
        monkeypatch.setitem(sys.modules, f"gateway.changes.{module}", None)
        monkeypatch.delitem(sys.modules, f"gateway.changes.{module}")
    monkeypatch.setattr(changes, "__path__", [*changes.__path__, str(tmp_path)])
    bundle = VersionBundle(changes.discover())
    for holder in (changes, gateway.app):
        monkeypatch.setattr(holder, "BUNDLE", bundle)
    return bundle
