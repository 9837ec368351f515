"""The config shipped in the ConfigMap and the image is one the real gateway accepts and serves.

The config is taken from the *rendered* ConfigMap (what the cluster gets), its secret file
paths are pointed at temporary files (the pod gets them from the Secret volume), and then:
``check-config`` must accept it without printing a secret, and a real gateway started with it
(listeners moved to free 127.0.0.1 ports) must answer every probe path of the Deployment on the
port the probe names, /metrics for the ServiceMonitor, and proxy requests on the proxy port.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from deploy_support import (
    GATEWAY,
    REPO,
    Manifest,
    container_port,
    gateway_config,
    gateway_container,
    one,
    pod_spec,
    port_of,
)
from gateway_process import gateway_process, run_cli

SECRET_VALUE = "deploy-test-secret-value-7f3a"


def _with_local_secrets(config: dict[str, Any], secrets_dir: Path) -> dict[str, Any]:
    """A copy of the config whose *_file settings point at files in secrets_dir."""

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if str(key).endswith("_file") and isinstance(value, str):
                    local = secrets_dir / Path(value).name
                    local.write_text(SECRET_VALUE + "\n", encoding="utf-8")
                    out[key] = str(local)
                else:
                    out[key] = rewrite(value)
            return out
        return node

    secrets_dir.mkdir(exist_ok=True)
    rewritten = rewrite(config)
    assert isinstance(rewritten, dict)
    return rewritten


@pytest.mark.parametrize("name", ["base", "overlays/standalone"])
def test_check_config_accepts_the_configmap_and_redacts_secrets(
    rendered: dict[str, list[Manifest]], name: str, tmp_path: Path
) -> None:
    _, config = gateway_config(rendered[name])
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(_with_local_secrets(config, tmp_path / "s")), encoding="utf-8")
    done = run_cli("check-config", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert SECRET_VALUE not in done.stdout + done.stderr
    effective = yaml.safe_load(done.stdout)
    assert effective["listen"] == config["listen"]
    assert effective["shutdown"]["drain_seconds"] == config["shutdown"]["drain_seconds"]


def test_check_config_rejects_a_broken_copy(
    rendered: dict[str, list[Manifest]], tmp_path: Path
) -> None:
    _, config = gateway_config(rendered["base"])
    broken = _with_local_secrets(config, tmp_path / "s")
    broken["upstream"]["api_version"] = 9
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    done = run_cli("check-config", str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "upstream.api_version" in done.stderr


def test_check_config_accepts_the_image_default_config() -> None:
    done = run_cli("check-config", str(REPO / "deploy" / "image" / "gateway.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr
    effective = yaml.safe_load(done.stdout)
    assert (effective["listen"], effective["admin_listen"]) == ("0.0.0.0:8080", "0.0.0.0:9090")


async def _kinvey_like_upstream(request: web.Request) -> web.Response:
    return web.json_response([{"_id": "e1"}], headers={"X-Kinvey-API-Version": "6"})


@pytest.mark.parametrize("name", ["base", "overlays/standalone"])
async def test_a_gateway_running_the_configmap_serves_every_probe(
    rendered: dict[str, list[Manifest]], name: str, tmp_path: Path
) -> None:
    docs = rendered[name]
    gateway_spec = gateway_container(pod_spec(one(docs, "Deployment", GATEWAY)))
    _, config = gateway_config(docs)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _kinvey_like_upstream)
    upstream = TestServer(app, host="127.0.0.1", port=0)
    await upstream.start_server()
    local = _with_local_secrets(config, tmp_path / "s")
    local["upstream"] = {**local["upstream"], "url": str(upstream.make_url("")).rstrip("/")}
    try:
        with gateway_process(tmp_path, local) as gateway:
            # Kubernetes port -> the port this test's gateway really listens on.
            local_port = {
                port_of(config["admin_listen"]): gateway.admin_port,
                port_of(config["listen"]): gateway.proxy_port,
            }
            async with aiohttp.ClientSession() as session:
                await gateway.wait_ready(session)
                for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                    http_get = gateway_spec[probe]["httpGet"]
                    port = local_port[container_port(gateway_spec, http_get["port"])]
                    async with session.get(f"http://127.0.0.1:{port}{http_get['path']}") as resp:
                        assert resp.status == 200, f"{probe} {http_get}: {resp.status}"
                admin = local_port[container_port(gateway_spec, "admin")]
                async with session.get(f"http://127.0.0.1:{admin}/metrics") as resp:
                    assert resp.status == 200
                    assert "kgw_" in await resp.text()
                proxy = local_port[container_port(gateway_spec, "proxy")]
                headers = {"X-Kinvey-API-Version": "6", "Authorization": "Kinvey t"}
                url = f"http://127.0.0.1:{proxy}/appdata/kid_myapp/things"
                async with session.get(url, headers=headers) as resp:
                    assert resp.status == 200, gateway.log()
                    assert await resp.json() == [{"_id": "e1"}]
    finally:
        await upstream.close()
