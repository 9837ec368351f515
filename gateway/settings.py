"""Settings: YAML file < environment < command-line flags, validated once at start.

Bad settings raise one ``ConfigError`` listing every problem, one line each, naming the flag,
environment variable or YAML key as the user wrote it; the CLI prints them and exits 2.
Secrets come from the file, from a file it names, or from the environment
(``KINVEY_GATEWAY_APP_SECRET_<appKey>``), never from flags, and are redacted by
``Secret.__repr__`` and ``effective_settings``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gateway.config_checks import (
    ConfigChecks,
    check_files,
    check_limits,
    did_you_mean,
    unknown_variables,
)
from gateway.config_schema import (
    FIELDS,
    FIELDS_BY_PATH,
    Field,
)
from gateway.kinvey.version_header import KINVEY_NEWEST_VERSION
from gateway.settings_apps import AppPolicy, Secret, load_apps
from gateway.settings_sections import Sections, sections_from


class ConfigError(Exception):
    """Settings are missing, unknown, of the wrong type or out of range: one line per problem."""

    def __init__(self, *problems: str, absent_files: Sequence[str] = ()) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.absent_files = tuple(absent_files)  # named files that do not exist here


@dataclass(frozen=True, slots=True)
class Settings(Sections):
    """The typed sections (``settings.limits.result_set_limit``) and what comes with them.

    ``values`` (path -> value) is the same settings untyped, for printing and the docs only:
    code outside this module reads the typed attributes.
    """

    values: Mapping[str, Any]
    apps: Mapping[str, AppPolicy] = field(default_factory=dict)
    url_signing_secret: Secret | None = None
    url_signing_previous_secrets: tuple[Secret, ...] = ()
    # setting path -> the flag, environment variable or YAML key that set it, as written
    sources: Mapping[str, str] = field(default_factory=dict)
    # files an offline check could not look at (they exist only where the gateway runs)
    unchecked_files: tuple[str, ...] = ()

    @property
    def upstream_api_version(self) -> int:
        return self.upstream.api_version

    @property
    def result_set_limit(self) -> int:
        """For the engine's ``SettingsView``."""
        return self.limits.result_set_limit

    def app(self, app_key: str | None) -> AppPolicy | None:
        return self.apps.get(app_key) if app_key else None

    def source(self, path: str) -> str:
        """How the user named ``path``: ``--listen``, ``KINVEY_GATEWAY_LISTEN`` or ``listen``."""
        return self.sources.get(path, path)


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


def load_settings(
    config_file: str | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    flag_names: Mapping[str, str] | None = None,
    newest_version: int = KINVEY_NEWEST_VERSION,
    offline: bool = False,
) -> Settings:
    """Merge defaults, the YAML file, ``KINVEY_GATEWAY_*`` variables and flag overrides.

    Every problem is reported at once (``ConfigError.problems``), each naming the YAML key,
    the environment variable or the flag (``flag_names``: path -> flag) that set it.
    ``newest_version`` is the newest API version the gateway knows (the caller takes it from
    the change bundle). ``offline`` (check-config on another machine): files that do not exist
    here are listed in ``unchecked_files`` instead of failing.
    """
    environ = os.environ if environ is None else environ
    load = ConfigChecks(newest_version, offline)
    data = _read_file(config_file) if config_file else {}
    values: dict[str, Any] = {f.path: f.default for f in FIELDS}
    sources: dict[str, str] = {}

    def assign(spec: Field, raw: Any, where: str) -> None:
        ok, value = load.cast(spec, raw, where)
        if ok:
            values[spec.path], sources[spec.path] = value, where

    for path, raw in _flatten(data).items():
        spec = FIELDS_BY_PATH.get(path)
        if spec is None:
            load.problems.append(f"{path}: unknown setting{did_you_mean(path, FIELDS_BY_PATH)}")
        else:
            assign(spec, raw, path)
    load.problems += unknown_variables(environ)
    for spec in FIELDS:
        if spec.env in environ:
            assign(spec, environ[spec.env], spec.env)
    for path, raw in (overrides or {}).items():
        if raw is not None:
            assign(FIELDS_BY_PATH[path], raw, (flag_names or {}).get(path, path))
    apps = load_apps(data.get("apps"), environ, load)
    check_files(values, sources, load)
    check_limits(values, sources, load)
    signing = _signing_secret(values, sources, load)
    previous = _previous_signing_secrets(values, sources, load)
    if load.problems:
        raise ConfigError(*load.problems, absent_files=load.absent)
    return Settings(
        **sections_from(values),
        values=values,
        apps=apps,
        url_signing_secret=signing,
        url_signing_previous_secrets=previous,
        sources=sources,
        unchecked_files=tuple(load.unchecked),
    )


def _signing_secret(
    values: Mapping[str, Any], sources: Mapping[str, str], load: ConfigChecks
) -> Secret | None:
    signing = values["url_signing.secret"]
    if values["url_signing.secret_file"]:
        where = sources.get("url_signing.secret_file", "url_signing.secret_file")
        signing = load.secret_file(values["url_signing.secret_file"], where)
    return Secret(signing) if signing else None


def _previous_signing_secrets(
    values: Mapping[str, Any], sources: Mapping[str, str], load: ConfigChecks
) -> tuple[Secret, ...]:
    previous = [values["url_signing.previous_secret"] or ""]
    path = values["url_signing.previous_secrets_file"]
    if path:
        where = sources.get(
            "url_signing.previous_secrets_file", "url_signing.previous_secrets_file"
        )
        previous += (load.secret_file(path, where) or "").splitlines()
    return tuple(Secret(line.strip()) for line in previous if line.strip())


def require_upstream(settings: Settings) -> None:
    """``serve`` has no default upstream: proxying to a guessed host helps nobody."""
    if not settings.upstream.url:
        raise ConfigError(
            "no upstream configured: give --upstream URL, KINVEY_GATEWAY_UPSTREAM_URL or "
            "upstream.url in the config file (e.g. https://<instance>-baas.kinvey.com)"
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
            "min_client_app_version": app.min_client_app_version,
            "retired_message": app.retired_message,
            "report_only": app.report_only,
            "shadow_upstream_url": app.shadow_upstream_url,
        }
        for key, app in sorted(settings.apps.items())
    }
    return out
