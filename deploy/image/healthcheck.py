"""Container HEALTHCHECK for docker/podman: exit 0 when the admin listener answers /healthz.

Kubernetes ignores HEALTHCHECK and uses the probes in deploy/k8s instead. The admin address is
taken the way the gateway takes it (environment over file), so a changed ``admin_listen`` does
not leave the check probing a stale port. Only the standard library and PyYAML (a gateway
dependency, present in the image's venv) are used.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

DEFAULT_CONFIG = "/etc/kinvey-gateway/config/gateway.yaml"
DEFAULT_ADMIN_LISTEN = "127.0.0.1:9090"
ADMIN_LISTEN_ENV = "KINVEY_GATEWAY_ADMIN_LISTEN"
TIMEOUT_SECONDS = 3.0

# A wildcard bind address is reachable from inside the container on loopback.
_WILDCARD_TO_LOOPBACK = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1", "[::]": "::1"}


def admin_listen(environ: Mapping[str, str], config_file: str) -> str:
    """HOST:PORT of the admin listener: environment, else the config file, else the default."""
    if environ.get(ADMIN_LISTEN_ENV):
        return environ[ADMIN_LISTEN_ENV]
    try:
        data = yaml.safe_load(Path(config_file).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return DEFAULT_ADMIN_LISTEN
    if isinstance(data, dict) and data.get("admin_listen"):
        return str(data["admin_listen"])
    return DEFAULT_ADMIN_LISTEN


def healthz_url(address: str) -> str:
    host, _, port = address.rpartition(":")
    host = _WILDCARD_TO_LOOPBACK.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def check(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    config_file = args[0] if args else DEFAULT_CONFIG
    url = healthz_url(admin_listen(os.environ, config_file))
    if check(url):
        return 0
    print(f"unhealthy: GET {url} did not answer 200", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
