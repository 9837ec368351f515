"""The settings as frozen, typed sections: ``settings.upstream.pool_size``, not a dotted string.

Each attribute path is a settings-table path (``upstream.tls.ca_file`` is
``settings.upstream.tls.ca_file``), so ``gateway.config_schema.FIELDS`` stays the one
declaration for YAML, environment, flags and docs; ``sections_from`` fills the tree from the
validated values once, and fails on a section field the table does not have. The table's casts
already produced these types, so nothing is converted here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, get_type_hints


@dataclass(frozen=True, slots=True)
class UpstreamTls:
    ca_file: str | None
    ca_dir: str | None
    client_cert_file: str | None
    client_key_file: str | None
    min_version: str
    dangerously_disable_verification: bool


@dataclass(frozen=True, slots=True)
class Upstream:
    url: str | None
    api_version: int
    connect_timeout_seconds: float
    read_timeout_seconds: float
    pool_size: int
    pool_timeout_seconds: float
    keepalive_timeout_seconds: float
    use_env_proxy: bool
    tls: UpstreamTls


@dataclass(frozen=True, slots=True)
class StorageTls:
    ca_file: str | None


@dataclass(frozen=True, slots=True)
class Storage:
    connect_timeout_seconds: float
    read_timeout_seconds: float
    pool_size: int
    tls: StorageTls


@dataclass(frozen=True, slots=True)
class ListenerTls:
    cert_file: str | None
    key_file: str | None
    reload_interval_seconds: float


@dataclass(frozen=True, slots=True)
class Limits:
    max_buffered_body_bytes: int
    max_buffered_bytes_total: int
    result_set_limit: int
    max_concurrent_requests: int
    max_header_bytes: int
    client_body_timeout_seconds: float
    max_client_connections: int
    client_idle_timeout_seconds: float


@dataclass(frozen=True, slots=True)
class Auth:
    token_cache_size: int
    token_cache_ttl_seconds: float


@dataclass(frozen=True, slots=True)
class UrlSigning:
    # The raw settings; Settings.url_signing_secret(s) are the resolved secrets to use.
    secret: str | None
    secret_file: str | None
    previous_secret: str | None
    previous_secrets_file: str | None
    ttl_seconds: float


@dataclass(frozen=True, slots=True)
class Logging:
    level: str
    format: str
    access_log: bool


@dataclass(frozen=True, slots=True)
class Metrics:
    enabled: bool
    client_release_top_k: int


@dataclass(frozen=True, slots=True)
class Shadow:
    candidate_api_version: int | None
    upstream_url: str | None
    sample_ratio: float
    max_concurrency: int
    routes: str  # comma-separated, sorted: see config_values.as_name_list
    max_calls_per_second: float
    max_body_bytes: int
    timeout_seconds: float
    samples_kept: int
    show_values: bool


@dataclass(frozen=True, slots=True)
class Shutdown:
    drain_seconds: float
    timeout_seconds: float


@dataclass(frozen=True, slots=True)
class Sections:
    """Every scalar setting, by section; ``gateway.settings.Settings`` extends it."""

    listen: str
    admin_listen: str
    public_base_url: str | None
    default_client_api_version: int | None
    upstream: Upstream
    storage: Storage
    tls: ListenerTls
    limits: Limits
    auth: Auth
    url_signing: UrlSigning
    logging: Logging
    metrics: Metrics
    shadow: Shadow
    shutdown: Shutdown


def sections_from(values: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor arguments of ``Sections`` from the validated ``values`` (path -> value),
    nested sections built on the way (``upstream.tls`` for ``Upstream.tls``)."""
    return _arguments(Sections, values, "")


def _arguments(kind: type[Any], values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    hints = get_type_hints(kind)
    arguments: dict[str, Any] = {}
    for spec in fields(kind):
        hint = hints[spec.name]
        path = prefix + spec.name
        if isinstance(hint, type) and is_dataclass(hint):
            arguments[spec.name] = hint(**_arguments(hint, values, path + "."))
        else:
            arguments[spec.name] = values[path]
    return arguments
