"""The kustomizations render, pass strict Kubernetes schema validation and fit together."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from deploy_support import (
    CRD_KINDS,
    GATEWAY,
    K8S,
    KUSTOMIZATIONS,
    REPO,
    Manifest,
    all_containers,
    container_port,
    find,
    gateway_config,
    gateway_container,
    one,
    pod_spec,
    port_of,
    render,
    venv_tool,
)
from kubernetes_validate.utils import latest_version

# 1.29: the oldest release with native sidecars (init containers with restartPolicy: Always)
# on by default, so the oldest the base supports; plus the newest schema the wheel ships.
K8S_VERSIONS = ("1.29.0", latest_version())
SECRETS_VOLUME, UPSTREAM_TLS_VOLUME = "secrets", "upstream-tls"


def _validate_k8s(doc: Manifest, version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_rendered_objects_pass_strict_kubernetes_schemas(
    rendered: dict[str, list[Manifest]], name: str, version: str
) -> None:
    docs = rendered[name]
    assert docs, f"{name} rendered nothing"
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in CRD_KINDS:
            continue  # no bundled schema; checked against tests/deploy/schemas instead
        _validate_k8s(doc, version)


def test_strict_validation_rejects_a_misspelt_field(rendered: dict[str, list[Manifest]]) -> None:
    deployment = copy.deepcopy(one(rendered["base"], "Deployment", GATEWAY))
    gateway_container(pod_spec(deployment))["readinesProbe"] = {"httpGet": {"port": "admin"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate_k8s(deployment, K8S_VERSIONS[0])


def test_kubernetes_validate_cli_accepts_the_rendered_files(
    rendered: dict[str, list[Manifest]], tmp_path: Path
) -> None:
    tool = venv_tool("kubernetes-validate", "kubernetes-validate")
    for name, docs in rendered.items():
        plain = [d for d in docs if (d["apiVersion"], d["kind"]) not in CRD_KINDS]
        path = tmp_path / (name.replace("/", "_") + ".yaml")
        path.write_text(yaml.safe_dump_all(plain), encoding="utf-8")
        done = subprocess.run(
            [tool, "--strict", "-k", K8S_VERSIONS[0], str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "WARN" not in done.stdout + done.stderr, f"{name}: an object went unvalidated"


def test_only_prometheus_operator_kinds_lack_a_bundled_schema(
    rendered: dict[str, list[Manifest]],
) -> None:
    kinds = {(d["apiVersion"], d["kind"]) for docs in rendered.values() for d in docs}
    assert kinds >= CRD_KINDS
    assert {k for k in kinds if k[0].startswith("monitoring.coreos.com")} == CRD_KINDS


def test_yamllint_passes_on_every_manifest_source() -> None:
    tool = venv_tool("yamllint", "yamllint")
    done = subprocess.run(
        [tool, "-s", "-c", str(K8S / ".yamllint.yaml"), str(K8S)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_services_select_the_pods_and_target_declared_ports(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    docs = rendered[name]
    deployment = one(docs, "Deployment", GATEWAY)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    containers = all_containers(pod_spec(deployment))
    declared = {p["name"] for c in containers for p in c.get("ports", [])}
    services = find(docs, "Service")
    assert {s["metadata"]["name"] for s in services} == {GATEWAY, f"{GATEWAY}-admin"}
    for service in services:
        assert service["spec"]["selector"].items() <= labels.items()
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in declared, f"{service['metadata']['name']}: {port}"


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_config_listeners_match_the_container_ports(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    docs = rendered[name]
    gateway = gateway_container(pod_spec(one(docs, "Deployment", GATEWAY)))
    _, config = gateway_config(docs)
    assert port_of(config["listen"]) == container_port(gateway, "proxy")
    assert port_of(config["admin_listen"]) == container_port(gateway, "admin")
    assert config["listen"].startswith("0.0.0.0:"), "the Service cannot reach a loopback listener"
    assert config["admin_listen"].startswith("0.0.0.0:"), "the kubelet cannot probe loopback"


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_gateway_probes_hit_the_admin_endpoints(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    gateway = gateway_container(pod_spec(one(rendered[name], "Deployment", GATEWAY)))
    expected = {"startupProbe": "/readyz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in expected.items():
        http_get = gateway[probe]["httpGet"]
        assert http_get["path"] == path, probe
        assert http_get["port"] == "admin", probe
        container_port(gateway, http_get["port"])


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_container_is_locked_down_and_sized(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    spec = pod_spec(one(rendered[name], "Deployment", GATEWAY))
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] >= 10000
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    for container in all_containers(spec):
        ctx = container["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False, container["name"]
        assert ctx["readOnlyRootFilesystem"] is True, container["name"]
        assert ctx["capabilities"]["drop"] == ["ALL"], container["name"]
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}, container["name"]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= container["resources"][kind].keys(), container["name"]
        assert "livenessProbe" in container and "readinessProbe" in container, container["name"]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_grace_period_outlasts_drain_plus_shutdown_timeout(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    docs = rendered[name]
    spec = pod_spec(one(docs, "Deployment", GATEWAY))
    _, config = gateway_config(docs)
    shutdown = config["shutdown"]
    needed = shutdown["drain_seconds"] + shutdown["timeout_seconds"]
    assert spec["terminationGracePeriodSeconds"] > needed


def _mounts(container: dict[str, Any]) -> dict[str, str]:
    return {m["name"]: m["mountPath"] for m in container["volumeMounts"]}


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_config_and_secrets_come_from_mounted_volumes(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    docs = rendered[name]
    spec = pod_spec(one(docs, "Deployment", GATEWAY))
    gateway = gateway_container(spec)
    mounts = _mounts(gateway)
    volumes = {v["name"]: v for v in spec["volumes"]}
    config_map, config = gateway_config(docs)
    # The config file the gateway is told to read is the ConfigMap's key, where it is mounted.
    args = gateway["args"]
    config_path = args[args.index("--config") + 1]
    assert config_path == f"{mounts['config']}/gateway.yaml"
    assert list(config_map["data"]) == ["gateway.yaml"]
    # Secrets are referenced, never shipped: no Secret object is rendered, and every *_file
    # setting points into a Secret volume.
    assert not find(docs, "Secret")
    assert volumes[SECRETS_VOLUME]["secret"]["secretName"] == "kinvey-gateway-secrets"
    assert volumes[UPSTREAM_TLS_VOLUME]["secret"]["optional"] is True
    secret_dirs = (mounts[SECRETS_VOLUME], mounts[UPSTREAM_TLS_VOLUME])
    file_settings = list(_file_settings(config))
    assert file_settings, "expected the example config to name secret files"
    for key, path in file_settings:
        assert path.startswith(tuple(d + "/" for d in secret_dirs)), f"{key}: {path}"
    for container in all_containers(spec):
        for env in container.get("env", []):
            assert "secret" not in env["name"].lower() or "value" not in env, env["name"]


def _file_settings(node: Any, prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}{key}"
            if str(key).endswith("_file") and isinstance(value, str):
                found.append((path, value))
            else:
                found.extend(_file_settings(value, path + "."))
    return found


def test_secret_keys_the_config_needs_are_the_ones_the_docs_create(
    rendered: dict[str, list[Manifest]],
) -> None:
    spec = pod_spec(one(rendered["base"], "Deployment", GATEWAY))
    secrets_dir = _mounts(gateway_container(spec))[SECRETS_VOLUME]
    _, config = gateway_config(rendered["base"])
    needed = {Path(path).name for _, path in _file_settings(config) if path.startswith(secrets_dir)}
    docs = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    for key in needed:
        assert f"--from-file={key}=" in docs, f"docs/deploy.md does not create Secret key {key}"


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_network_policy_opens_proxy_to_all_and_admin_to_monitoring_only(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    docs = rendered[name]
    deployment = one(docs, "Deployment", GATEWAY)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    gateway = gateway_container(pod_spec(deployment))
    policy = one(docs, "NetworkPolicy", GATEWAY)
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    admin, proxy = container_port(gateway, "admin"), container_port(gateway, "proxy")
    declared = {
        p["containerPort"] for c in all_containers(pod_spec(deployment)) for p in c["ports"]
    }
    for rule in policy["spec"]["ingress"]:
        ports = {p["port"] for p in rule["ports"]}
        assert ports <= declared
        if admin in ports:
            assert rule["from"] == [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    }
                }
            ]
    assert any(
        proxy in {p["port"] for p in r["ports"]} and "from" not in r
        for r in policy["spec"]["ingress"]
    )


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_all_namespaced_objects_share_one_namespace(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    namespaces = {d["metadata"].get("namespace") for d in rendered[name]}
    assert namespaces == {"kinvey-gateway"}


def test_base_runs_the_gateway_as_a_native_sidecar(rendered: dict[str, list[Manifest]]) -> None:
    spec = pod_spec(one(rendered["base"], "Deployment", GATEWAY))
    assert [c["name"] for c in spec["initContainers"]] == [GATEWAY]
    assert spec["initContainers"][0]["restartPolicy"] == "Always"
    app = [c for c in spec["containers"] if c["name"] != GATEWAY]
    assert app, "the sidecar example needs an app container"
    proxy = container_port(spec["initContainers"][0], "proxy")
    app_env = {e["name"]: e.get("value") for c in app for e in c.get("env", [])}
    assert f"http://127.0.0.1:{proxy}" in app_env.values()


@pytest.mark.parametrize("name", ["overlays/standalone", "overlays/standalone-monitoring"])
def test_standalone_is_a_scaled_spread_and_protected_gateway(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    docs = rendered[name]
    deployment = one(docs, "Deployment", GATEWAY)
    spec = pod_spec(deployment)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert [c["name"] for c in spec["containers"]] == [GATEWAY]
    assert "initContainers" not in spec
    assert "restartPolicy" not in spec["containers"][0]
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    hpa = one(docs, "HorizontalPodAutoscaler", GATEWAY)
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        deployment["apiVersion"],
        "Deployment",
        deployment["metadata"]["name"],
    )
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    pdb = one(docs, "PodDisruptionBudget", GATEWAY)
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    spread = spec["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }
    for constraint in spread:
        assert constraint["labelSelector"]["matchLabels"].items() <= labels.items()


def test_monitoring_component_fits_base_too(tmp_path: Path) -> None:
    """The component also works on the sidecar base (the way docs/deploy.md suggests)."""
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        # kustomize refuses absolute paths to bases and components.
        "resources": [os.path.relpath(K8S / "base", tmp_path)],
        "components": [os.path.relpath(K8S / "monitoring", tmp_path)],
    }
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization), encoding="utf-8")
    docs = render(tmp_path)
    _assert_service_monitor_scrapes_the_admin_port(docs)


@pytest.mark.parametrize("name", ["overlays/standalone-monitoring"])
def test_service_monitor_scrapes_the_admin_port(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    _assert_service_monitor_scrapes_the_admin_port(rendered[name])


def _assert_service_monitor_scrapes_the_admin_port(docs: list[Manifest]) -> None:
    monitor = one(docs, "ServiceMonitor", GATEWAY)
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = [
        s for s in find(docs, "Service") if selector.items() <= s["metadata"]["labels"].items()
    ]
    assert [s["metadata"]["name"] for s in services] == [f"{GATEWAY}-admin"]
    service_ports = {p["name"]: p for p in services[0]["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert service_ports[endpoint["port"]]["targetPort"] == "admin"
        assert endpoint["path"] == "/metrics"
    dashboard = one(docs, "ConfigMap", "kinvey-gateway-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    one(docs, "PrometheusRule", GATEWAY)
