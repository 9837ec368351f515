"""checkov (policy checks) passes on every rendered kustomization and on the Dockerfile.

checkov lives in its own venv (.venv-checkov, created on first use) because it pins many
libraries the gateway also uses. ``--skip-download`` keeps it offline. Skips are allowed only in
the two config files, each with its check ID and a justification comment.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from deploy_support import K8S, KUSTOMIZATIONS, REPO, checkov, render_text

K8S_CONFIG = K8S / ".checkov.yaml"
DOCKERFILE_CONFIG = REPO / "deploy" / "image" / ".checkov.yaml"


def _checkov(config: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [checkov(), "--config-file", str(config), "-f", str(target)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=target.parent,
    )


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_checkov_passes_on_rendered_manifests(name: str, tmp_path: Path) -> None:
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(render_text(K8S / name), encoding="utf-8")
    done = _checkov(K8S_CONFIG, rendered)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Passed checks:" in done.stdout, "checkov scanned nothing"


def test_checkov_fails_a_privileged_copy(tmp_path: Path) -> None:
    rendered = render_text(K8S / "base").replace(
        "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"
    )
    (tmp_path / "rendered.yaml").write_text(rendered, encoding="utf-8")
    done = _checkov(K8S_CONFIG, tmp_path / "rendered.yaml")
    assert done.returncode == 1 and "CKV_K8S_20" in done.stdout


def test_checkov_passes_on_the_dockerfile(tmp_path: Path) -> None:
    copy = tmp_path / "Dockerfile"
    copy.write_text((REPO / "Dockerfile").read_text(encoding="utf-8"), encoding="utf-8")
    done = _checkov(DOCKERFILE_CONFIG, copy)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Passed checks:" in done.stdout


@pytest.mark.parametrize("config", [K8S_CONFIG, DOCKERFILE_CONFIG], ids=["k8s", "dockerfile"])
def test_every_skipped_check_is_justified(config: Path) -> None:
    lines = config.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"\s*-\s*(CKV2?_[A-Z0-9]+_\d+)\s*$", line)
        if match:
            comments = []
            for previous in reversed(lines[:index]):
                if not previous.strip().startswith("#"):
                    break
                comments.append(previous)
            assert any(match.group(1) in c for c in comments), f"{match.group(1)}: no reason"
            assert sum(len(c) for c in comments) > 60, f"{match.group(1)}: reason too thin"
