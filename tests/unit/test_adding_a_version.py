"""The README's "Adding a version change" example works exactly as written.

The change file and its test are taken from README.md, the change is dropped into the changes
package's search path, discovered like any other, and the README's own tests are run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gateway.versioning.bundle import VersionBundle
from gateway.versioning.changelog import render_changelog
from tests.support.added_changes import add_changes

README = Path(__file__).resolve().parents[2] / "README.md"
MODULE = "v7_count_says_whether_exact"


def _readme_blocks() -> tuple[str, str]:
    section = README.read_text().split("### Adding a version change", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    return blocks[0], blocks[1]


@pytest.fixture
def bundle_with_v7(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> VersionBundle:
    change_source, _ = _readme_blocks()
    return add_changes(tmp_path, monkeypatch, {MODULE: change_source})


async def test_the_readme_v7_change_and_its_tests(bundle_with_v7: VersionBundle) -> None:
    assert bundle_with_v7.newest_version == 7
    assert bundle_with_v7.plan(6, 6, "GET", "appdata.count").is_passthrough  # dormant at pin 6
    assert bundle_with_v7.plan(6, 7, "GET", "appdata.count").change_names == (
        "CountSaysWhetherExact",
    )
    assert "### CountSaysWhetherExact" in render_changelog(bundle_with_v7)
    _, test_source = _readme_blocks()
    namespace: dict[str, Any] = {}
    exec(compile(test_source, "README.md (v7 test)", "exec"), namespace)
    tests = [fn for name, fn in namespace.items() if name.startswith("test_")]
    assert len(tests) == 2
    for test in tests:
        await test()
