"""The emulator is written from the spec alone: it imports no gateway code but the error helper.

Comparing the gateway against an emulator that shared its translation code would test nothing.
"""

import ast
from pathlib import Path

import gateway.emulator

ALLOWED_GATEWAY_MODULES = {"gateway.kinvey.errors"}


def _gateway_imports(source: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name for name in names if name == "gateway" or name.startswith("gateway."))
    return found


def test_emulator_imports_only_itself_and_the_error_helper() -> None:
    package_dir = Path(gateway.emulator.__file__).parent
    sources = sorted(package_dir.glob("*.py"))
    assert len(sources) > 10
    offending = {
        f"{source.name}: {name}"
        for source in sources
        for name in _gateway_imports(source)
        if not name.startswith("gateway.emulator") and name not in ALLOWED_GATEWAY_MODULES
    }
    assert not offending
    assert not any(
        node.level > 1
        for source in sources
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.ImportFrom)
    )
