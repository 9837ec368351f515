"""Start the upstream and each proxy under comparison, on free ports, pinned to CPUs.

Layout (2 cores): the load generator and the upstream share ``LOAD_CPU``; the proxy under
test owns ``PROXY_CPU``, so its CPU time is its own and it is the bottleneck.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench import nginx_conf
from bench.cases import GATEWAY_NO_METRICS, NGINX, PLAIN, SHADOW_SAMPLE_RATIOS
from bench.procs import Proc, ProcessSet, free_port, process_tree, wait_ready

LOAD_CPU = 0
PROXY_CPU = 1
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Running:
    name: str
    base_url: str
    proc: Proc
    pids: list[int] = field(default_factory=list)
    ready_s: float = 0.0
    admin_url: str | None = None

    def refresh_pids(self) -> None:
        self.pids = process_tree(self.proc.pid)


def _nginx(ps: ProcessSet, workdir: Path, name: str, conf: str, cpu: int, port: int) -> Running:
    for role in ("upstream", "proxy"):  # nginx_conf's temp dirs
        (workdir / f"{role}-temp").mkdir(exist_ok=True)
    conf_path = workdir / f"{name}.conf"
    conf_path.write_text(conf)
    argv = ["nginx", "-e", "stderr", "-p", str(workdir), "-c", str(conf_path)]
    proc = ps.spawn(name, argv, log_path=workdir / f"{name}.log", cpu=cpu)
    running = Running(name, f"http://127.0.0.1:{port}", proc)
    running.ready_s = wait_ready(proc, running.base_url + "/")
    running.refresh_pids()
    return running


def start_upstream(ps: ProcessSet, workdir: Path) -> Running:
    nginx_conf.write_download_file(workdir)
    port = free_port()
    conf = nginx_conf.upstream_conf(workdir, port)
    return _nginx(ps, workdir, "upstream", conf, LOAD_CPU, port)


def start_nginx_proxy(ps: ProcessSet, workdir: Path, upstream_port: int) -> Running:
    port = free_port()
    conf = nginx_conf.proxy_conf(workdir, port, upstream_port)
    return _nginx(ps, workdir, NGINX, conf, PROXY_CPU, port)


def start_plain(ps: ProcessSet, workdir: Path, upstream_url: str) -> Running:
    port = free_port()
    argv = [sys.executable, "-m", "bench.plain_proxy", "--upstream", upstream_url]
    argv += ["--listen", f"127.0.0.1:{port}", "--translate-delete"]
    proc = ps.spawn(PLAIN, argv, log_path=workdir / "plain.log", cpu=PROXY_CPU, cwd=REPO)
    running = Running(PLAIN, f"http://127.0.0.1:{port}", proc)
    running.ready_s = wait_ready(proc, running.base_url + "/")
    running.refresh_pids()
    return running


def gateway_command() -> list[str]:
    script = Path(sys.executable).parent / "kinvey-gateway"
    return [str(script)] if script.exists() else [sys.executable, "-m", "gateway"]


def gateway_missing_reason() -> str | None:
    """Why the gateway cannot be benchmarked yet, or None when ``serve`` exists."""
    cli = REPO / "gateway" / "cli.py"
    if not cli.exists():
        return "gateway/cli.py does not exist yet"
    if '"serve"' not in cli.read_text() and "'serve'" not in cli.read_text():
        return "gateway/cli.py has no `serve` command yet"
    return None


def start_gateway(
    ps: ProcessSet,
    workdir: Path,
    upstream_url: str,
    name: str,
    *,
    cpu: int | None = PROXY_CPU,
    shadow_budget: float | None = None,
) -> Running:
    port, admin_port = free_port(), free_port()
    argv = [*gateway_command(), "serve", "--upstream", upstream_url]
    argv += ["--upstream-api-version", "6", "--listen", f"127.0.0.1:{port}"]
    argv += ["--admin-listen", f"127.0.0.1:{admin_port}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINVEY_GATEWAY_")}
    if name == GATEWAY_NO_METRICS:
        env["KINVEY_GATEWAY_METRICS_ENABLED"] = "false"
        env["KINVEY_GATEWAY_LOGGING_ACCESS_LOG"] = "false"  # the target: metrics + logging off
    if name in SHADOW_SAMPLE_RATIOS:
        # The default concurrency; the default upstream budget unless the run names another.
        env["KINVEY_GATEWAY_SHADOW_CANDIDATE_API_VERSION"] = "5"
        env["KINVEY_GATEWAY_SHADOW_SAMPLE_RATIO"] = SHADOW_SAMPLE_RATIOS[name]
        if shadow_budget is not None:
            env["KINVEY_GATEWAY_SHADOW_MAX_CALLS_PER_SECOND"] = str(shadow_budget)
    proc = ps.spawn(name, argv, log_path=workdir / f"{name}.log", cpu=cpu, env=env, cwd=REPO)
    running = Running(name, f"http://127.0.0.1:{port}", proc)
    running.admin_url = f"http://127.0.0.1:{admin_port}"
    running.ready_s = wait_ready(proc, running.admin_url + "/readyz", want=200)
    running.refresh_pids()
    return running
