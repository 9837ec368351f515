"""Fixtures for the deployment tests: each kustomization rendered once per session."""

from __future__ import annotations

import pytest
from deploy_support import K8S, KUSTOMIZATIONS, Manifest, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Manifest]]:
    """kustomization path (relative to deploy/k8s) -> its rendered objects."""
    return {name: render(K8S / name) for name in KUSTOMIZATIONS}
