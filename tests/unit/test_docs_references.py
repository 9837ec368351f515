"""Every file the README and docs/ point at exists: links, and repository paths in backticks.

A newcomer follows these; a page naming a module or a spec that is not in the repository
(``shutdown.py``, ``../shared/spec/...``) sends them nowhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
REPO_PATH = re.compile(r"`((?:gateway|tests|deploy|config|docs|bench)/[^`\s]*)`")
RELATIVE_PATH = re.compile(r"`(\.\./[^`\s]+)`")
PLACEHOLDER = re.compile(r"[<>*{}…]|\.\.\.")
# The README's worked example of adding v7: files a maintainer would create.
README_EXAMPLE = {
    "gateway/changes/v7_count_says_whether_exact.py",
    "tests/changes/test_v7_count_says_whether_exact.py",
}
MODULE_MAP = re.compile(r"^  ((?:[a-z_0-9]+/)*[a-z_0-9]+\.(?:py|html))\s", re.MULTILINE)


def _missing(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    missing = []
    for target in LINK.findall(text):
        if not re.match(r"[a-z]+:", target) and not (page.parent / target).exists():
            missing.append(target)
    for target in RELATIVE_PATH.findall(text):
        if not (page.parent / target).resolve().is_relative_to(REPO):
            missing.append(f"{target} (outside the repository)")
        elif not (page.parent / target).exists():
            missing.append(target)
    for path in REPO_PATH.findall(text):
        if PLACEHOLDER.search(path) or path in README_EXAMPLE:
            continue
        if not (REPO / path.rstrip("/")).exists():
            missing.append(path)
    return missing


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_referenced_file_exists(page: Path) -> None:
    assert _missing(page) == []


def test_the_architecture_module_map_names_existing_modules() -> None:
    text = (REPO / "docs/architecture.md").read_text(encoding="utf-8")
    block = text.split("## Module map", 1)[1].split("```", 2)[1]
    named = MODULE_MAP.findall(block)
    assert "proxy.py" in named and "cli.py" in named
    assert [name for name in named if not (REPO / "gateway" / name).exists()] == []


def test_the_declared_license_ships_in_full() -> None:
    assert 'license = { text = "Apache-2.0" }' in (REPO / "pyproject.toml").read_text()
    text = " ".join((REPO / "LICENSE").read_text(encoding="utf-8").split())
    assert text.startswith("Apache License Version 2.0, January 2004")
    for section in range(1, 10):  # the nine numbered terms, then the appendix
        assert f" {section}. " in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX: How to apply" in text
