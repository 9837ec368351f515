"""The package's layers and its import graph, read from the source.

Every ``import`` statement counts, wherever it stands: at the top, inside a function (lazy) or
under ``if TYPE_CHECKING:``. ``from package import name`` imports the submodule ``name`` when
there is one, else the package. The layer rules below are the ones tests/unit/test_layering.py
enforces; ``python -m gateway.tools.import_graph`` prints them with the graph between the
packages (docs/architecture.md, "Layering", shows that output and a test keeps it current).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
ROOT = PACKAGE_DIR.name  # "gateway"

# Each layer: the packages and modules in it, and why it sits where it does. Listed from the
# top (what the user runs) down; a layer imports only the layers named in MAY_IMPORT.
LAYERS: dict[str, tuple[tuple[str, ...], str]] = {
    "face": (
        (
            "gateway.__main__",
            "gateway.cli",
            "gateway.demo",
            "gateway.startup",
            "gateway.config_reference",
        ),
        "what a user runs: the command line, the demo, generated docs",
    ),
    "app": (
        ("gateway.app", "gateway.services", "gateway.health", "gateway.tls_setup"),
        "builds and wires one running gateway from its settings",
    ),
    "handler": (
        ("gateway.proxy", "gateway.handler", "gateway.exchange", "gateway.shadow"),
        "one request: classify, choose the plan, send, answer, record; shadow comparison",
    ),
    "settings": (
        (
            "gateway.settings",
            "gateway.settings_sections",
            "gateway.settings_apps",
            "gateway.config_app_fields",
            "gateway.config_schema",
            "gateway.config_values",
            "gateway.config_checks",
        ),
        "the settings table, loaded and checked once at start",
    ),
    "changes": (("gateway.changes",), "one version change per file; no I/O, no transport"),
    "engine": (("gateway.versioning",), "plans and runs the changes; no I/O, no transport"),
    "transport": (("gateway.http",), "HTTP only: upstream client, relaying, headers, TLS"),
    "kinvey": (("gateway.kinvey",), "pure Kinvey protocol knowledge: routes, errors, auth"),
    "observability": (("gateway.observability",), "metrics, access log, dashboard; apart"),
    "emulator": (("gateway.emulator",), "the built-in Kinvey backend; apart from the engine"),
    "tools": (("gateway.tools",), "developer tools reading the source; import nothing"),
    "root": (("gateway",), "the package itself: its version"),
}
MAY_IMPORT: dict[str, frozenset[str]] = {
    "face": frozenset(LAYERS) - {"face", "tools"},
    "app": frozenset(
        {"handler", "settings", "changes", "engine", "transport", "kinvey", "observability", "root"}
    ),
    "handler": frozenset({"settings", "engine", "transport", "kinvey", "observability", "root"}),
    "settings": frozenset({"kinvey", "root"}),
    "changes": frozenset({"engine", "kinvey"}),
    "engine": frozenset({"kinvey"}),
    "transport": frozenset(),
    "kinvey": frozenset(),
    "observability": frozenset({"kinvey", "root"}),
    "emulator": frozenset({"kinvey", "root"}),
    "tools": frozenset(),
    "root": frozenset(),
}
# The engine, the changes and the Kinvey knowledge compute; they never touch a socket or a file.
NO_IO_LAYERS = frozenset({"engine", "changes", "kinvey"})
IO_MODULES = (
    "aiohttp", "asyncio.streams", "asyncio.subprocess", "http", "httpx", "io", "pathlib",
    "requests", "select", "selectors", "shutil", "socket", "sqlite3", "ssl", "subprocess",
    "tempfile", "urllib.request", "yaml",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Import:
    importer: str  # a module of the package
    imported: str  # a module of the package, or an outside module as written
    line: int


def package_modules(package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _written(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[str, int]]:
    """Each imported name as written (``from a import b`` gives ``a.b``), with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield (f"{base}.{alias.name}" if alias.name != "*" else base), node.lineno


def _resolve(name: str, modules: dict[str, Path]) -> str:
    """The package's module a dotted name lands in (its longest known prefix), else ``name``."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return name


def imports(package_dir: Path = PACKAGE_DIR) -> list[Import]:
    """Every import of the package's modules, one per importer, imported module and line."""
    modules = package_modules(package_dir)
    found: dict[Import, None] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        for name, line in _written(tree, module, is_package):
            imported = _resolve(name, modules)
            if imported != module:
                found[Import(module, imported, line)] = None
    return list(found)


def unit_of(module: str) -> str:
    """The package a module belongs to (``gateway.http``), or itself when it is top-level."""
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and (PACKAGE_DIR / parts[1]).is_dir()):
        return ".".join(parts[:2])
    return module


def layer_of(module: str) -> str | None:
    unit = unit_of(module)
    return next((layer for layer, (units, _) in LAYERS.items() if unit in units), None)


def package_graph(found: list[Import]) -> dict[str, set[str]]:
    """Which packages (and top-level modules) import which, within the package."""
    graph: dict[str, set[str]] = {}
    for edge in found:
        if edge.imported.split(".")[0] != ROOT:
            continue
        source, target = unit_of(edge.importer), unit_of(edge.imported)
        graph.setdefault(source, set())
        if source != target:
            graph[source].add(target)
    return graph


def render(found: list[Import]) -> str:
    lines = ["Layers, top down (a layer imports only the layers after 'may import'):", ""]
    for layer, (units, why) in LAYERS.items():
        allowed = " ".join(name for name in LAYERS if name in MAY_IMPORT[layer]) or "-"
        lines.append(f"  {layer:<14}{why}")
        lines.append(f"  {'':<14}{' '.join(units)}")
        lines.append(f"  {'':<14}may import: {allowed}")
    lines += ["", "Package import graph (from the code, lazy and TYPE_CHECKING imports too):", ""]
    for source, targets in sorted(package_graph(found).items()):
        lines.append(f"  {source} -> {', '.join(sorted(targets)) or '-'}")
    return "\n".join(lines) + "\n"


def main() -> None:
    sys.stdout.write(render(imports()))


if __name__ == "__main__":
    main()
