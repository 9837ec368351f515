"""Checks while loading settings: every problem collected, each named as the user wrote it.

``ConfigChecks`` gathers the problems of one load (a cast that fails, a version out of the
range the gateway knows, a file that cannot be read) so they are reported together; offline
(``check-config --offline``) a file that does not exist here is noted instead of failing.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gateway.config_schema import APP_SECRET_ENV_PREFIX, ENV_PREFIX, FIELDS, Field


def did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else ""


class ConfigChecks:
    """Collects every problem of one load, each named as the user wrote the setting."""

    def __init__(self, newest_version: int, offline: bool) -> None:
        self.newest_version = newest_version
        self.offline = offline
        self.problems: list[str] = []
        self.unchecked: list[str] = []
        self.absent: list[str] = []  # files that do not exist here (a config for a pod?)

    def cast(self, spec: Field, raw: Any, where: str) -> tuple[bool, Any]:
        try:
            value = spec.cast(raw)
        except ValueError as exc:
            self.problems.append(f"{where}: {exc}")
            return False, None
        low, high = spec.lowest_version, self.newest_version
        if low is not None and value is not None and not low <= value <= high:
            self.problems.append(f"{where}: {value} is out of range {low}..{high}")
            return False, None
        return True, value

    def present(self, path: str | None, where: str) -> bool:
        """Whether ``path`` is there to be read; offline, an absent file is noted, not an error."""
        if not path:
            return False
        if not os.path.exists(path):
            if self.offline:
                self.unchecked.append(f"{where}: {path} (absent here, not checked)")
                return False
            self.absent.append(path)
        if not os.access(path, os.R_OK):
            self.problems.append(f"{where}: cannot read {path}")
            return False
        return True

    def secret_file(self, path: str | None, where: str) -> str | None:
        if not self.present(path, where):
            return None
        assert path is not None
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            self.problems.append(f"{where}: cannot read {path} ({exc.strerror})")
            return None


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """``KINVEY_GATEWAY_*`` names that set nothing: a typo must not be silently ignored."""
    known = {spec.env for spec in FIELDS}
    return [
        f"{name}: unknown environment variable{did_you_mean(name, known)}"
        for name in sorted(environ)
        if name.startswith(ENV_PREFIX)
        and name not in known
        and not name.startswith(APP_SECRET_ENV_PREFIX)
    ]


def check_files(values: Mapping[str, Any], sources: Mapping[str, str], load: ConfigChecks) -> None:
    def name(path: str) -> str:
        return sources.get(path, path)

    cert, key = values["tls.cert_file"], values["tls.key_file"]
    if bool(cert) != bool(key):
        given = "tls.cert_file" if cert else "tls.key_file"
        load.problems.append(
            f"{name(given)}: tls.cert_file and tls.key_file must be given together"
        )
    for path in (
        "tls.cert_file",
        "tls.key_file",
        "upstream.tls.ca_file",
        "upstream.tls.client_cert_file",
        "upstream.tls.client_key_file",
        "storage.tls.ca_file",
    ):
        load.present(values[path], name(path))
    ca_dir = values["upstream.tls.ca_dir"]
    if ca_dir and not (load.offline and not os.path.exists(ca_dir)) and not os.path.isdir(ca_dir):
        load.problems.append(f"{name('upstream.tls.ca_dir')}: {ca_dir} is no directory")
    if values["upstream.tls.client_key_file"] and not values["upstream.tls.client_cert_file"]:
        load.problems.append(
            f"{name('upstream.tls.client_key_file')}: needs upstream.tls.client_cert_file"
        )


def check_limits(values: Mapping[str, Any], sources: Mapping[str, str], load: ConfigChecks) -> None:
    """Limits that only make sense together."""
    total, body = (
        values["limits.max_buffered_bytes_total"],
        values["limits.max_buffered_body_bytes"],
    )
    if total < body:
        where = sources.get("limits.max_buffered_bytes_total", "limits.max_buffered_bytes_total")
        load.problems.append(f"{where}: must be at least limits.max_buffered_body_bytes")
