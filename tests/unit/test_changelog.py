"""The API changelog is generated from the change classes and the checked-in copy is current."""

from __future__ import annotations

from pathlib import Path

from gateway.changes import BUNDLE
from gateway.versioning.changelog import render_changelog
from tests.support.processes import run_gateway_cli

CHECKED_IN = Path(__file__).resolve().parents[2] / "docs" / "api-changelog.md"


def test_every_change_is_in_the_changelog_in_version_order() -> None:
    text = render_changelog(BUNDLE)
    positions = [text.index(f"### {change.__qualname__}\n") for change in BUNDLE.changes]
    assert positions == sorted(positions)
    versions = [change.introduced_in for change in BUNDLE.changes]
    assert versions == sorted(versions)


def test_checked_in_changelog_is_current() -> None:
    result = run_gateway_cli("changelog", check=True)
    assert result.stdout == CHECKED_IN.read_text(), (
        "docs/api-changelog.md is stale: run `kinvey-gateway changelog > docs/api-changelog.md`"
    )
