"""Typed settings: every row of the settings table is a typed attribute of ``Settings``
(``upstream.tls.ca_file`` is ``settings.upstream.tls.ca_file``), and no code outside
gateway/settings.py reads a setting by a dotted string (issue 16, item 3)."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from functools import reduce
from pathlib import Path
from typing import Any, get_type_hints

from gateway.config_schema import FIELDS
from gateway.settings import load_settings
from gateway.settings_sections import Sections

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"


def _leaf_paths(kind: type[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, annotation) of every scalar attribute of the section tree."""
    hints = get_type_hints(kind)
    for spec in dataclasses.fields(kind):
        hint = hints[spec.name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            yield from _leaf_paths(hint, f"{prefix}{spec.name}.")
        else:
            yield prefix + spec.name, hint


def test_every_setting_is_a_typed_attribute_and_nothing_else_is() -> None:
    """Adding a row to FIELDS without its typed field (or the reverse) fails here."""
    assert {path for path, _ in _leaf_paths(Sections)} == {spec.path for spec in FIELDS}


def test_typed_attributes_hold_the_loaded_values_in_their_declared_types(
    tmp_path: Path,
) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "upstream:\n  url: https://u.example\n  pool_size: 7\n  tls:\n    min_version: '1.3'\n"
        "limits:\n  result_set_limit: 42\n"
        "shadow:\n  candidate_api_version: 5\n  routes: user.me,appdata.entity\n"
    )
    settings = load_settings(str(config), {"KINVEY_GATEWAY_SHUTDOWN_DRAIN_SECONDS": "1.5"})
    for path, hint in _leaf_paths(Sections):
        value = reduce(getattr, path.split("."), settings)
        assert value == settings.values[path], path
        assert isinstance(value, hint), (path, value, hint)
    assert settings.upstream.pool_size == 7
    assert settings.upstream.tls.min_version == "1.3"
    assert settings.result_set_limit == settings.limits.result_set_limit == 42
    assert settings.shadow.routes == "appdata.entity,user.me"
    assert settings.shutdown.drain_seconds == 1.5
    assert dataclasses.is_dataclass(settings.upstream.tls)
    try:
        settings.limits.result_set_limit = 1  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("settings sections must be frozen")


def _string_keyed_reads(source: str) -> list[int]:
    """Lines of ``<...settings...>["literal"]`` / ``[f"..."]`` subscripts in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Subscript)
            and "settings" in ast.unparse(node.value)
            and isinstance(node.slice, ast.Constant | ast.JoinedStr)
        ):
            found.append(node.lineno)
    return found


def test_the_scan_finds_string_keyed_reads() -> None:
    source = 'a = settings["limits.x"]\nb = self.settings[f"{s}.y"]\nc = settings.values["z"]\n'
    assert _string_keyed_reads(source) == [1, 2, 3]
    assert _string_keyed_reads("a = settings.limits.x\nb = apps['k']\n") == []


def test_no_string_keyed_settings_reads_outside_the_settings_module() -> None:
    offenders = [
        f"{path.relative_to(GATEWAY.parent)}:{line}"
        for path in sorted(GATEWAY.rglob("*.py"))
        if path != GATEWAY / "settings.py"
        for line in _string_keyed_reads(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "read settings through their typed sections: " + ", ".join(offenders)
