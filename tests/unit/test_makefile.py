"""The Makefile as a newcomer uses it, run by the real `make` in a scratch copy of the repo.

`make -n` prints what a target would run without running it, so these tests see the commands
(what `make demo` installs, the overrides it passes) without installing anything. `make clean`
really runs, in a scratch git checkout holding one made thing per .gitignore pattern.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _make(cwd: Path, *args: str) -> str:
    make = shutil.which("make")
    assert make, "make is a prerequisite of the README's commands"
    done = subprocess.run(
        [make, "--no-print-directory", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml", "constraints.txt", ".gitignore"):
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def test_demo_installs_only_the_runtime_and_passes_the_overrides(scratch: Path) -> None:
    plan = _make(scratch, "-n", "demo", "DEMO_LISTEN=127.0.0.1:18080", "DEMO_ADMIN=127.0.0.1:19090")
    installs = [line for line in plan.splitlines() if "pip install" in line]
    assert installs == [
        ".venv/bin/pip install --quiet --disable-pip-version-check -c constraints.txt -e ."
    ]
    assert (
        ".venv/bin/kinvey-gateway demo --listen 127.0.0.1:18080 --admin-listen 127.0.0.1:19090 "
        "--emulator-listen 127.0.0.1:7007"
    ) in plan.replace(" \\\n\t", " ")


def test_check_and_test_install_the_test_extras(scratch: Path) -> None:
    for target in ("check", "test"):
        plan = _make(scratch, "-n", target)
        assert (
            ".venv/bin/pip install --quiet --disable-pip-version-check "
            "-c constraints.txt -e '.[test]'" in plan
        )
    assert '-m "not slow and not tools"' in _make(scratch, "-n", "check")


def test_clean_removes_everything_gitignore_names(scratch: Path) -> None:
    made = [
        ".venv/bin/python", ".venv-checkov/bin/checkov", "gateway/__pycache__/cli.cpython-311.pyc",
        "stray.pyc", ".mypy_cache/x", ".ruff_cache/x", ".pytest_cache/x", ".hypothesis/x",
        "tests/sdk/v3/node_modules/kinvey/index.js",
        "tests/observability/grafana-schema/node_modules/x", "artifacts/shot.png",
        "bench/results/run.json", "kinvey_gateway.egg-info/PKG-INFO", "build/lib/x", "dist/x.whl",
    ]  # fmt: skip
    for name in made:
        (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        (scratch / name).write_text("made\n")
    subprocess.run(["git", "init", "-q"], cwd=scratch, check=True)
    ignored = ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"]

    def left() -> list[str]:
        out = subprocess.run(ignored, cwd=scratch, capture_output=True, text=True, check=True)
        return [line[3:] for line in out.stdout.splitlines() if line.startswith("!! ")]

    assert len(left()) == len(made), "every made thing is ignored by .gitignore"
    _make(scratch, "clean")
    assert left() == []
    assert (scratch / "Makefile").exists() and (scratch / "pyproject.toml").exists()
