"""Settings: YAML file < environment < command-line flags, validated once at start.

A bad setting raises ``ConfigError`` whose message is one line naming the key and the problem;
the CLI prints it and exits 2. Secrets come from the file, from a file it names, or from the
environment (``KINVEY_GATEWAY_APP_SECRET_<appKey>``), never from flags, and are redacted by
``Secret.__repr__`` and ``effective_settings``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gateway.config_schema import (
    APP_FIELDS,
    APP_FIELDS_BY_NAME,
    APP_SECRET_ENV_PREFIX,
    FIELDS,
    FIELDS_BY_PATH,
    Field,
)


class ConfigError(Exception):
    """A setting is missing, unknown, of the wrong type or out of range."""


class Secret(str):
    """A string that never shows itself in repr() or printed settings."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True, slots=True)
class AppPolicy:
    app_key: str
    default_client_api_version: int | None = None
    min_client_api_version: int = 0
    app_secret: Secret | None = None
    upstream_url: str | None = None
    upstream_api_version: int | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    values: Mapping[str, Any]
    apps: Mapping[str, AppPolicy] = field(default_factory=dict)
    url_signing_secret: Secret | None = None

    def __getitem__(self, path: str) -> Any:
        return self.values[path]

    @property
    def upstream_api_version(self) -> int:
        return int(self.values["upstream.api_version"])

    def app(self, app_key: str | None) -> AppPolicy | None:
        return self.apps.get(app_key) if app_key else None


def _read_file(path: str) -> Mapping[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path}: not valid YAML ({_one_line(exc)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: the top level must be a mapping")
    return data


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if path == "apps":
            continue
        if isinstance(value, dict) and path not in FIELDS_BY_PATH:
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def _cast(field_: Field, raw: Any, where: str) -> Any:
    try:
        return field_.cast(raw)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _read_secret_file(path: str, key: str) -> Secret:
    try:
        return Secret(Path(path).read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise ConfigError(f"{key}: cannot read {path} ({exc.strerror})") from None


def _load_apps(raw_apps: Any, environ: Mapping[str, str]) -> dict[str, AppPolicy]:
    if raw_apps is None:
        raw_apps = {}
    if not isinstance(raw_apps, dict):
        raise ConfigError("apps: expected a mapping of app keys")
    apps: dict[str, AppPolicy] = {}
    env_secrets = {
        name[len(APP_SECRET_ENV_PREFIX) :]: value
        for name, value in environ.items()
        if name.startswith(APP_SECRET_ENV_PREFIX) and value
    }
    for app_key in {*raw_apps, *env_secrets}:
        raw = raw_apps.get(app_key) or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"apps.{app_key}: expected a mapping")
        values: dict[str, Any] = {}
        for name, value in raw.items():
            spec = APP_FIELDS_BY_NAME.get(str(name))
            if spec is None:
                raise ConfigError(f"apps.{app_key}.{name}: unknown setting")
            values[spec.path] = _cast(spec, value, f"apps.{app_key}.{name}")
        secret: Secret | None = None
        if values.get("app_secret"):
            secret = Secret(values["app_secret"])
        if values.get("app_secret_file"):
            secret = _read_secret_file(values["app_secret_file"], f"apps.{app_key}.app_secret_file")
        if app_key in env_secrets:
            secret = Secret(env_secrets[app_key])
        policy_args = {
            f.path: values.get(f.path, f.default)
            for f in APP_FIELDS
            if f.path not in {"app_secret", "app_secret_file"}
        }
        apps[app_key] = AppPolicy(app_key=app_key, app_secret=secret, **policy_args)
    return apps


def load_settings(
    config_file: str | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge defaults, the YAML file, ``KINVEY_GATEWAY_*`` variables and flag overrides."""
    environ = os.environ if environ is None else environ
    data = _read_file(config_file) if config_file else {}
    values: dict[str, Any] = {f.path: f.default for f in FIELDS}
    for path, raw in _flatten(data).items():
        spec = FIELDS_BY_PATH.get(path)
        if spec is None:
            raise ConfigError(f"{path}: unknown setting")
        values[path] = _cast(spec, raw, path)
    for spec in FIELDS:
        if spec.env in environ:
            values[spec.path] = _cast(spec, environ[spec.env], spec.env)
    for path, raw in (overrides or {}).items():
        if raw is not None:
            values[path] = _cast(FIELDS_BY_PATH[path], raw, "--" + path.split(".")[-1])
    apps = _load_apps(data.get("apps"), environ)
    _check_consistency(values)
    signing = values["url_signing.secret"]
    if values["url_signing.secret_file"]:
        signing = _read_secret_file(values["url_signing.secret_file"], "url_signing.secret_file")
    return Settings(
        values=values, apps=apps, url_signing_secret=Secret(signing) if signing else None
    )


def _check_consistency(values: Mapping[str, Any]) -> None:
    cert, key = values["tls.cert_file"], values["tls.key_file"]
    if bool(cert) != bool(key):
        raise ConfigError("tls: cert_file and key_file must be given together")
    for path in (
        "tls.cert_file",
        "tls.key_file",
        "upstream.tls.ca_file",
        "upstream.tls.client_cert_file",
        "upstream.tls.client_key_file",
    ):
        if values[path] and not os.access(values[path], os.R_OK):
            raise ConfigError(f"{path}: cannot read {values[path]}")
    if values["upstream.tls.ca_dir"] and not os.path.isdir(values["upstream.tls.ca_dir"]):
        raise ConfigError(f"upstream.tls.ca_dir: {values['upstream.tls.ca_dir']} is no directory")
    client_cert, client_key = (
        values["upstream.tls.client_cert_file"],
        values["upstream.tls.client_key_file"],
    )
    if client_key and not client_cert:
        raise ConfigError("upstream.tls.client_key_file: needs client_cert_file")
    if values["limits.max_buffered_bytes_total"] < values["limits.max_buffered_body_bytes"]:
        raise ConfigError(
            "limits.max_buffered_bytes_total: must be at least limits.max_buffered_body_bytes"
        )


def effective_settings(settings: Settings) -> dict[str, Any]:
    """The settings as a nested mapping for printing, with every secret redacted."""
    out: dict[str, Any] = {}
    for spec in FIELDS:
        value = settings.values[spec.path]
        if spec.secret and value:
            value = "***"
        node = out
        *parents, leaf = spec.path.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    out["url_signing"]["secret"] = "***" if settings.url_signing_secret else None
    out["apps"] = {
        key: {
            "default_client_api_version": app.default_client_api_version,
            "min_client_api_version": app.min_client_api_version,
            "app_secret": "***" if app.app_secret else None,
            "upstream_url": app.upstream_url,
            "upstream_api_version": app.upstream_api_version,
        }
        for key, app in sorted(settings.apps.items())
    }
    return out
