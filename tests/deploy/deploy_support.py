"""Shared helpers for the deployment tests: rendering kustomizations, finding objects, tools.

Tools are installed on first use (idempotent, guarded by a file lock so parallel pytest-xdist
workers do not race), so ``pytest`` alone works on a fresh machine; a tool that cannot be had
fails the test loudly instead of skipping it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KUSTOMIZATIONS = ("base", "overlays/standalone", "overlays/standalone-monitoring")
GATEWAY = "kinvey-gateway"
CHECKOV_VERSION = "3.3.30"
CHECKOV_VENV = REPO / ".venv-checkov"
CRD_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}

Manifest = dict[str, Any]


@contextmanager
def _install_lock(name: str) -> Iterator[None]:
    lock_path = Path(tempfile.gettempdir()) / f"kinvey-gateway-tests-{name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def venv_tool(name: str, package: str) -> str:
    """Path of a console script in the test venv, pip-installing its package if missing."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        with _install_lock(package):
            if not path.exists():
                _run_or_fail([sys.executable, "-m", "pip", "install", "-q", package])
    if not path.exists():
        pytest.fail(f"{name}: `pip install {package}` did not provide {path}")
    return str(path)


def checkov() -> str:
    """checkov in its own venv (.venv-checkov): its many pinned deps must not touch ours."""
    exe = CHECKOV_VENV / "bin" / "checkov"
    if not exe.exists():
        with _install_lock("checkov"):
            if not exe.exists():
                _run_or_fail([sys.executable, "-m", "venv", str(CHECKOV_VENV)])
                pip = str(CHECKOV_VENV / "bin" / "pip")
                _run_or_fail([pip, "install", "-q", f"checkov=={CHECKOV_VERSION}"])
    return str(exe)


def kubectl() -> str:
    exe = shutil.which("kubectl")
    if exe is None:
        pytest.fail(
            "kubectl is not installed: it provides `kubectl kustomize` (preinstalled at "
            "/usr/bin/kubectl on the project's machines; install kubectl >= 1.27 elsewhere)"
        )
    return exe


def _run_or_fail(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=1200)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}")


def render_text(kustomization: Path) -> str:
    done = subprocess.run(
        [kubectl(), "kustomize", str(kustomization)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        pytest.fail(f"kubectl kustomize {kustomization} failed:\n{done.stderr}")
    return done.stdout


def render(kustomization: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(render_text(kustomization)) if doc]


def find(docs: list[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    return [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def one(docs: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def pod_spec(deployment: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def all_containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Regular containers plus init containers (a native sidecar is an init container)."""
    return [*spec.get("initContainers", []), *spec["containers"]]


def gateway_container(spec: dict[str, Any]) -> dict[str, Any]:
    matches = [c for c in all_containers(spec) if c["name"] == GATEWAY]
    assert len(matches) == 1, f"expected one container named {GATEWAY}"
    return matches[0]


def container_port(container: dict[str, Any], port: int | str) -> int:
    """Resolve a port reference (number or name) against a container's declared ports."""
    if isinstance(port, int):
        return port
    by_name = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    assert port in by_name, f"port {port!r} is not declared by container {container['name']}"
    return int(by_name[port])


def gateway_config(docs: list[Manifest]) -> tuple[Manifest, dict[str, Any]]:
    """The gateway's ConfigMap (found through the Deployment's volume) and its parsed config."""
    deployment = one(docs, "Deployment", GATEWAY)
    spec = pod_spec(deployment)
    config_volume = next(v for v in spec["volumes"] if v["name"] == "config")
    config_map = one(docs, "ConfigMap", config_volume["configMap"]["name"])
    config = yaml.safe_load(config_map["data"]["gateway.yaml"])
    assert isinstance(config, dict)
    return config_map, config


def port_of(address: str) -> int:
    return int(address.rpartition(":")[2])


def clean_environ() -> dict[str, str]:
    """The environment without KINVEY_GATEWAY_* variables, which would override configs."""
    return {k: v for k, v in os.environ.items() if not k.startswith("KINVEY_GATEWAY_")}
