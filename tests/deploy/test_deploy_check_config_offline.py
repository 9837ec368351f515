"""`check-config --offline` accepts every config the repository ships, where it is written.

A config for a pod names secret files that exist only inside the pod (the mounted Secret), so
a plain ``check-config`` on a laptop fails on them; ``--offline`` checks such files only where
they exist and lists the rest. Checked: every gateway config file in the tree and the config
of every rendered kustomization's ConfigMap (what the cluster gets).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import KUSTOMIZATIONS, REPO, Manifest, clean_environ, gateway_config
from gateway_process import run_cli

from gateway.config_schema import FIELDS

TOP_LEVEL = {field.path.split(".")[0] for field in FIELDS} | {"apps"}


def _shipped_configs() -> list[Path]:
    """Every tracked YAML file that is a gateway config (a mapping of gateway settings only)."""
    listed = subprocess.run(
        ["git", "ls-files", "*.yaml", "*.yml"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    configs = []
    for name in listed:
        data = yaml.safe_load((REPO / name).read_text(encoding="utf-8"))
        if isinstance(data, dict) and data and set(data) <= TOP_LEVEL:
            configs.append(REPO / name)
    return configs


def _file_settings(node: Any, prefix: str = "") -> dict[str, str]:
    """``{dotted key: path}`` of every ``*_file`` setting in a config."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            dotted = f"{prefix}{key}"
            if str(key).endswith("_file") and isinstance(value, str):
                found[dotted] = value
            else:
                found.update(_file_settings(value, dotted + "."))
    return found


def _check_offline(path: Path) -> subprocess.CompletedProcess[str]:
    done = run_cli("check-config", "--offline", str(path), env=clean_environ())
    assert done.returncode == 0, done.stderr
    return done


def test_the_tree_ships_the_configs_this_test_knows() -> None:
    names = {str(p.relative_to(REPO)) for p in _shipped_configs()}
    assert names == {
        "config/gateway.yaml",
        "deploy/image/gateway.yaml",
        "deploy/k8s/base/gateway.yaml",
    }


@pytest.mark.parametrize("path", _shipped_configs(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_config_passes_offline(path: Path) -> None:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    done = _check_offline(path)
    absent = {k: v for k, v in _file_settings(config).items() if not Path(v).exists()}
    notes = [
        f"kinvey-gateway: offline, not checked: {key}: {value} (absent here, not checked)"
        for key, value in absent.items()
    ]
    upstream = config.get("upstream", {}).get("url")
    if upstream is None:  # the image's config: the environment names the upstream
        notes.append(
            "kinvey-gateway: note: no upstream here; serve needs --upstream, "
            "KINVEY_GATEWAY_UPSTREAM_URL or upstream.url"
        )
    assert sorted(done.stderr.splitlines()) == sorted(notes)
    assert yaml.safe_load(done.stdout)["upstream"]["url"] == upstream


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_rendered_configmap_passes_offline(
    rendered: dict[str, list[Manifest]], name: str, tmp_path: Path
) -> None:
    _, config = gateway_config(rendered[name])
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    done = _check_offline(path)
    secret_files = _file_settings(config)
    assert secret_files, "the ConfigMap names its secret files"
    for key, value in secret_files.items():
        assert f"offline, not checked: {key}: {value} (absent here" in done.stderr
    online = run_cli("check-config", str(path), env=clean_environ())
    assert online.returncode == 2
    assert online.stderr.splitlines()[-1] == (
        "kinvey-gateway: config error: (a config written for another machine, e.g. a pod's "
        "mounted secrets? check it with check-config --offline)"
    )


def test_offline_still_checks_the_files_that_are_here(tmp_path: Path) -> None:
    for name in ("cert.pem", "key.pem"):
        (tmp_path / name).write_text("not PEM\n")
    path = tmp_path / "gateway.yaml"
    path.write_text(
        f"upstream:\n  url: http://127.0.0.1:9\ntls:\n  cert_file: {tmp_path / 'cert.pem'}\n"
        f"  key_file: {tmp_path / 'key.pem'}\nurl_signing:\n  secret_file: /nonexistent/s\n"
    )
    done = run_cli("check-config", "--offline", str(path), env=clean_environ())
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith(
        "kinvey-gateway: config error: tls.cert_file: not a usable certificate/key ("
    )
