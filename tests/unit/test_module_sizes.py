"""Small modules and short functions (issue 16, "Less code"), kept by CI.

The aim is modules of about 100-250 lines and functions readable on one screen. The ceilings
below leave a little room above that aim (a dense protocol class, a declaration list), so a
module only fails here once it clearly needs splitting: split it by responsibility, as
``metric_families``/``metrics`` or ``access_record``/``access_log`` were.
"""

from __future__ import annotations

import ast
from pathlib import Path

from gateway.tools.import_graph import PACKAGE_DIR

MODULE_MAX_LINES = 275
FUNCTION_MAX_LINES = 70


def _modules() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


def long_functions(source: str, limit: int) -> list[tuple[str, int]]:
    """(name, lines) of every function or method in ``source`` longer than ``limit`` lines."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > limit:
                found.append((node.name, length))
    return found


def test_the_package_is_measured() -> None:
    names = {path.relative_to(PACKAGE_DIR).as_posix() for path in _modules()}
    assert {"proxy.py", "http/h1_connection.py", "changes/__init__.py"} <= names


def test_no_module_is_longer_than_the_ceiling() -> None:
    too_long = {
        path.relative_to(PACKAGE_DIR).as_posix(): lines
        for path in _modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_MAX_LINES
    }
    assert too_long == {}, f"split these modules (over {MODULE_MAX_LINES} lines): {too_long}"


def test_no_function_is_longer_than_one_screen() -> None:
    too_long = {
        f"{path.relative_to(PACKAGE_DIR).as_posix()}:{name}": lines
        for path in _modules()
        for name, lines in long_functions(path.read_text(encoding="utf-8"), FUNCTION_MAX_LINES)
    }
    assert too_long == {}, f"split these functions (over {FUNCTION_MAX_LINES} lines): {too_long}"


def test_a_long_function_is_found_nested_or_async() -> None:
    body = "".join(f"        x{i} = {i}\n" for i in range(FUNCTION_MAX_LINES))
    source = f"class C:\n    async def long(self):\n{body}\n    def short(self):\n        pass\n"
    assert long_functions(source, FUNCTION_MAX_LINES) == [("long", FUNCTION_MAX_LINES + 1)]
