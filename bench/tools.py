"""Install the external tools the benchmark needs (Debian packages) and describe the machine."""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

# binary -> Debian package that provides it
REQUIRED = {"nginx": "nginx-light", "wrk": "wrk", "taskset": "util-linux"}


class ToolMissing(RuntimeError):
    """A tool is missing and cannot be installed here."""


def missing_packages() -> list[str]:
    return sorted({pkg for binary, pkg in REQUIRED.items() if shutil.which(binary) is None})


# One lock for every apt-get this project runs (benchmarks and parallel test workers alike):
# dpkg's own lock can be waited for, but the package lists' lock of `apt-get update` cannot.
APT_LOCK = Path("/tmp/kinvey-gateway-apt.lock")


@contextlib.contextmanager
def machine_lock(path: Path) -> Iterator[None]:
    """Held by one process of this machine at a time (parallel test workers, benchmarks)."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def apt_install(packages: list[str]) -> subprocess.CompletedProcess[str]:
    """``apt-get install`` under the machine-wide lock; ``apt-get update`` once if it fails."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
    install = [*apt, "install", "-y", "-qq", "--no-install-recommends", *packages]
    with machine_lock(APT_LOCK):
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            subprocess.run([*apt, "update", "-qq"], env=env, capture_output=True, check=False)
            done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    return done


def ensure_tools() -> None:
    """apt-get install whatever is missing; loud on failure."""
    packages = missing_packages()
    if not packages:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ToolMissing(f"missing {packages}: install them with apt-get (needs root)")
    print(f"installing {' '.join(packages)} with apt-get ...", flush=True)
    done = apt_install(packages)
    still = missing_packages()
    if still:
        raise ToolMissing(f"apt-get ran but {still} are still missing:\n{done.stderr[-2000:]}")


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError as exc:
        return f"unavailable ({exc})"
    text = (done.stdout + done.stderr).strip()
    return text.splitlines()[0] if text else ""


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, str]:
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "cpu": _cpu_model(),
        "cpus": str(os.cpu_count()),
        "memory_gib": f"{mem_kib / 1024 / 1024:.1f}",
        "kernel": platform.release(),
        "os": _first_line(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "python": sys.version.split()[0],
        "aiohttp": _version("aiohttp"),
        "uvloop": _version("uvloop"),
        "nginx": _first_line(["nginx", "-v"]),
        "wrk": _first_line(["wrk", "-v"]).split(" [")[0],
    }


def git_commit(repo: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else "uncommitted"
