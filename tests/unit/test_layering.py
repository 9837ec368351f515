"""The layers the code keeps, checked on every import of the package (lazy and TYPE_CHECKING
imports included): who may import whom, no I/O in the engine, the changes or the Kinvey
knowledge, and no import cycles. The rules are ``gateway.tools.import_graph.LAYERS`` and
``MAY_IMPORT``; docs/architecture.md ("Layering") shows them with the package graph.

A wrong import fails here with the rule it broke. There are no exceptions: an import a rule
forbids is fixed by moving code, or the rule is changed in ``import_graph`` with its reason.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from gateway.tools.import_graph import (
    IO_MODULES,
    LAYERS,
    MAY_IMPORT,
    NO_IO_LAYERS,
    PACKAGE_DIR,
    Import,
    imports,
    layer_of,
    package_modules,
    render,
)

REPO = PACKAGE_DIR.parent


def broken_rules(found: Iterable[Import]) -> list[str]:
    """One line per import that breaks a layer rule."""
    broken = []
    for edge in found:
        source, target = layer_of(edge.importer), layer_of(edge.imported)
        if source is None or target is None:  # outside the package, or homeless (see below)
            continue
        if source == target or target in MAY_IMPORT[source]:
            continue
        allowed = ", ".join(sorted(MAY_IMPORT[source])) or "nothing else"
        broken.append(
            f"{edge.importer} (line {edge.line}) imports {edge.imported}: layer {source!r} "
            f"({LAYERS[source][1]}) may import only: {allowed}"
        )
    return broken


def cycles(found: Iterable[Import]) -> list[frozenset[str]]:
    """The import cycles between the package's modules (strongly connected components)."""
    graph: dict[str, set[str]] = {}
    for edge in found:
        if layer_of(edge.imported) is not None:
            graph.setdefault(edge.importer, set()).add(edge.imported)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found_cycles = []

    def visit(node: str) -> None:  # Tarjan; the module graph is shallow
        order[node] = low[node] = len(order)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in order:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], order[nxt])
        if low[node] == order[node]:
            members = set()
            while True:
                member = stack.pop()
                members.add(member)
                if member == node:
                    break
            if len(members) > 1:
                found_cycles.append(frozenset(members))

    for node in sorted(graph):
        if node not in order:
            visit(node)
    return found_cycles


FOUND = imports()


def test_every_module_belongs_to_a_layer() -> None:
    homeless = [module for module in package_modules() if layer_of(module) is None]
    assert homeless == [], "add these to gateway.tools.import_graph.LAYERS"


def test_no_import_breaks_a_layer_rule() -> None:
    assert broken_rules(FOUND) == []


def test_no_import_cycles() -> None:
    assert cycles(FOUND) == []


def test_a_wrong_import_fails_with_the_rule_it_broke() -> None:
    wrong = [
        Import("gateway.versioning.pipeline", "gateway.http.upstream", 7),
        Import("gateway.emulator.app", "gateway.changes.v5_multi_insert", 9),
        Import("gateway.kinvey.routes", "gateway.settings", 3),
        Import("gateway.versioning.model", "gateway.kinvey.errors", 1),  # allowed
    ]
    assert broken_rules(wrong) == [
        "gateway.versioning.pipeline (line 7) imports gateway.http.upstream: layer 'engine' "
        "(plans and runs the changes; no I/O, no transport) may import only: kinvey",
        "gateway.emulator.app (line 9) imports gateway.changes.v5_multi_insert: layer "
        "'emulator' (the built-in Kinvey backend; apart from the engine) may import only: "
        "kinvey, root",
        "gateway.kinvey.routes (line 3) imports gateway.settings: layer 'kinvey' (pure Kinvey "
        "protocol knowledge: routes, errors, auth) may import only: nothing else",
    ]
    layered = [
        Import("gateway.versioning.model", "gateway.versioning.context", 1),
        Import("gateway.versioning.context", "gateway.versioning.model", 1),
    ]
    assert cycles(layered) == [
        frozenset({"gateway.versioning.model", "gateway.versioning.context"})
    ]


def test_the_emulator_never_imports_the_engine_or_the_changes() -> None:
    reached = {layer_of(e.imported) for e in FOUND if layer_of(e.importer) == "emulator"}
    assert reached.isdisjoint({"engine", "changes"})
    assert not {"engine", "changes"} & MAY_IMPORT["emulator"]


def test_the_engine_the_changes_and_kinvey_do_no_io() -> None:
    io = [
        f"{e.importer} (line {e.line}) imports {e.imported}"
        for e in FOUND
        if layer_of(e.importer) in NO_IO_LAYERS
        and any(e.imported == m or e.imported.startswith(m + ".") for m in IO_MODULES)
    ]
    opens = [
        f"{module} (line {node.lineno}) calls open()"
        for module, path in package_modules().items()
        if layer_of(module) in NO_IO_LAYERS
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"
    ]
    assert io + opens == []


def test_lazy_type_checking_and_relative_imports_are_all_seen(tmp_path: Path) -> None:
    package = tmp_path / "gateway"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from . import leaf\n")
    (package / "sub" / "leaf.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from gateway.top import Thing\n"
        "def later():\n    import gateway.other\n    from ..top import helper\n"
        "    from .sibling import x\n"
    )
    for name in ("top", "other", "sub/sibling"):
        (package / f"{name}.py").write_text("")
    found = {(e.importer, e.imported) for e in imports(package)}
    assert found >= {
        ("gateway.sub", "gateway.sub.leaf"),
        ("gateway.sub.leaf", "gateway.top"),
        ("gateway.sub.leaf", "gateway.other"),
        ("gateway.sub.leaf", "gateway.sub.sibling"),
    }
    assert ("gateway.sub.leaf", "typing.TYPE_CHECKING") in found


def test_the_script_prints_the_graph_and_the_architecture_doc_shows_it() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "gateway.tools.import_graph"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert printed == render(FOUND)
    assert "  gateway.versioning -> gateway.kinvey\n" in printed
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc.split("## Layering", 1)[1].split("\n## ", 1)[0]
    block = section.split("```text\n", 1)[1].split("```", 1)[0]
    assert block == printed, (
        "regenerate the block in docs/architecture.md: python -m gateway.tools.import_graph"
    )


@pytest.mark.parametrize("layer", list(LAYERS))
def test_every_layer_has_a_rule(layer: str) -> None:
    assert layer in MAY_IMPORT and MAY_IMPORT[layer] <= set(LAYERS) - {layer}
