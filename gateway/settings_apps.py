"""Per-app settings (``apps.<appKey>`` in the YAML file) and the ``Secret`` string type.

An app's secret comes from ``app_secret``, a file named by ``app_secret_file``, or the
environment (``KINVEY_GATEWAY_APP_SECRET_<appKey>``, which wins and also declares the app);
it is kept as a ``Secret``, which never shows itself in repr() or printed settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.config_app_fields import APP_FIELDS, APP_FIELDS_BY_NAME
from gateway.config_checks import ConfigChecks, did_you_mean
from gateway.config_schema import APP_SECRET_ENV_PREFIX


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
    min_client_app_version: str | None = None
    retired_message: str | None = None
    report_only: bool = False
    shadow_upstream_url: str | None = None


def _secret(value: str | None) -> Secret | None:
    return None if value is None else Secret(value)


def load_apps(
    raw_apps: Any, environ: Mapping[str, str], load: ConfigChecks
) -> dict[str, AppPolicy]:
    if raw_apps is None:
        raw_apps = {}
    if not isinstance(raw_apps, dict):
        load.problems.append("apps: expected a mapping of app keys")
        return {}
    apps: dict[str, AppPolicy] = {}
    env_secrets = {
        name[len(APP_SECRET_ENV_PREFIX) :]: value
        for name, value in environ.items()
        if name.startswith(APP_SECRET_ENV_PREFIX) and value
    }
    for app_key in sorted({*map(str, raw_apps), *env_secrets}):
        raw = raw_apps.get(app_key) or {}
        if not isinstance(raw, dict):
            load.problems.append(f"apps.{app_key}: expected a mapping")
            continue
        values: dict[str, Any] = {}
        for name, value in raw.items():
            where = f"apps.{app_key}.{name}"
            spec = APP_FIELDS_BY_NAME.get(str(name))
            if spec is None:
                load.problems.append(
                    f"{where}: unknown setting{did_you_mean(str(name), APP_FIELDS_BY_NAME)}"
                )
                continue
            ok, cast = load.cast(spec, value, where)
            if ok:
                values[spec.path] = cast
        secret: Secret | None = None
        if values.get("app_secret"):
            secret = Secret(values["app_secret"])
        if values.get("app_secret_file"):
            secret = _secret(
                load.secret_file(values["app_secret_file"], f"apps.{app_key}.app_secret_file")
            )
        if app_key in env_secrets:
            secret = Secret(env_secrets[app_key])
        policy_args = {
            f.path: values.get(f.path, f.default)
            for f in APP_FIELDS
            if f.path not in {"app_secret", "app_secret_file"}
        }
        apps[app_key] = AppPolicy(app_key=app_key, app_secret=secret, **policy_args)
    return apps
