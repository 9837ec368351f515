"""The table of every scalar setting: YAML path, type, default, environment variable, secrecy.

One table drives the YAML loader, environment overrides, ``check-config`` output and the
configuration reference, so a setting is declared once. Per-app settings live under
``apps.<appKey>`` and are described by ``config_app_fields.APP_FIELDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.config_values import (
    as_address,
    as_bool,
    as_choice,
    as_int,
    as_name_list,
    as_optional_path,
    as_optional_str,
    as_optional_url,
    as_optional_version,
    as_positive_float,
    as_ratio,
    as_tls_version,
)
from gateway.kinvey.reads import READ_ROUTES

Caster = Callable[[Any], Any]


ENV_PREFIX = "KINVEY_GATEWAY_"
APP_SECRET_ENV_PREFIX = ENV_PREFIX + "APP_SECRET_"


@dataclass(frozen=True, slots=True)
class Field:
    path: str
    cast: Caster
    default: Any
    help: str
    secret: bool = False
    # An API version setting: allowed from this version up to the newest one the gateway
    # knows, which the caller of load_settings injects (it follows gateway/changes/).
    lowest_version: int | None = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.path.replace(".", "_").upper()


FIELDS: tuple[Field, ...] = (
    Field("listen", as_address, "127.0.0.1:8080", "proxy listener HOST:PORT"),
    Field("admin_listen", as_address, "127.0.0.1:9090", "admin listener (health, metrics)"),
    Field(
        "public_base_url",
        as_optional_url,
        None,
        "base URL clients reach the gateway at (for URLs it hands out); none = client's Host",
    ),
    Field(
        "default_client_api_version",
        as_optional_version,
        None,
        "version assumed for requests without X-Kinvey-API-Version (default: the pin)",
        lowest_version=0,
    ),
    Field(
        "upstream.url",
        as_optional_url,
        None,
        "upstream Kinvey base URL (required by `serve`: there is no default upstream)",
    ),
    Field(
        "upstream.api_version",
        as_optional_version,
        6,
        "API version pinned upstream (3 up to the newest version the gateway knows)",
        lowest_version=3,
    ),
    Field("upstream.connect_timeout_seconds", as_positive_float, 5.0, "upstream connect timeout"),
    Field(
        "upstream.read_timeout_seconds",
        as_positive_float,
        60.0,
        "upstream read timeout (gap between bytes)",
    ),
    Field("upstream.pool_size", as_int(1, 100_000), 100, "max upstream connections (total)"),
    Field(
        "upstream.pool_timeout_seconds",
        as_positive_float,
        5.0,
        "longest wait for a free pooled connection (then 503)",
    ),
    Field(
        "upstream.keepalive_timeout_seconds",
        as_positive_float,
        15.0,
        "idle upstream connections are closed after this (keep below the upstream's)",
    ),
    Field("upstream.use_env_proxy", as_bool, False, "honour HTTPS_PROXY/HTTP_PROXY/NO_PROXY"),
    Field("upstream.tls.ca_file", as_optional_path, None, "extra CA bundle (PEM file)"),
    Field("upstream.tls.ca_dir", as_optional_path, None, "extra CA directory (c_rehash'ed)"),
    Field("upstream.tls.client_cert_file", as_optional_path, None, "client certificate (mTLS)"),
    Field("upstream.tls.client_key_file", as_optional_path, None, "client key (mTLS)"),
    Field("upstream.tls.min_version", as_tls_version, "1.2", "minimum TLS version: 1.2 or 1.3"),
    Field(
        "upstream.tls.dangerously_disable_verification",
        as_bool,
        False,
        "DANGEROUS: do not verify the upstream certificate",
    ),
    Field(
        "storage.connect_timeout_seconds", as_positive_float, 5.0, "file storage connect timeout"
    ),
    Field("storage.read_timeout_seconds", as_positive_float, 60.0, "file storage read timeout"),
    Field("storage.pool_size", as_int(1, 100_000), 20, "max file storage connections (total)"),
    Field(
        "storage.tls.ca_file",
        as_optional_path,
        None,
        "extra CA bundle for file storage (system trust store otherwise)",
    ),
    Field("tls.cert_file", as_optional_path, None, "listener certificate (PEM); enables HTTPS"),
    Field("tls.key_file", as_optional_path, None, "listener private key (PEM)"),
    Field(
        "tls.reload_interval_seconds",
        as_positive_float,
        2.0,
        "how often the listener certificate files are checked for changes",
    ),
    Field(
        "limits.max_buffered_body_bytes",
        as_int(1024, 1 << 31),
        10 * 1024 * 1024,
        "largest body buffered for translation (413 beyond)",
    ),
    Field(
        "limits.max_buffered_bytes_total",
        as_int(1024, 1 << 40),
        96 * 1024 * 1024,
        "bodies buffered for translation at once, all requests together (503 beyond)",
    ),
    Field("limits.result_set_limit", as_int(1, 1_000_000), 10_000, "Kinvey result-set limit"),
    Field(
        "limits.max_concurrent_requests",
        as_int(1, 1_000_000),
        1000,
        "requests in flight before new ones get 503",
    ),
    Field("limits.max_header_bytes", as_int(1024, 1 << 20), 16384, "largest header line/field"),
    Field(
        "limits.client_body_timeout_seconds",
        as_positive_float,
        60.0,
        "longest stall while reading a client's body or writing to a client",
    ),
    Field(
        "limits.max_client_connections",
        as_int(1, 1_000_000),
        10_000,
        "open client connections; beyond this new ones are closed at once",
    ),
    Field(
        "limits.client_idle_timeout_seconds",
        as_positive_float,
        75.0,
        "idle keep-alive client connections are closed after this",
    ),
    Field("auth.token_cache_size", as_int(1, 10_000_000), 10_000, "Basic→session cache entries"),
    Field(
        "auth.token_cache_ttl_seconds",
        as_positive_float,
        60.0,
        "Basic→session cache TTL: how long a password changed elsewhere keeps working here",
    ),
    Field("url_signing.secret", as_optional_str, None, "secret for gateway URLs", secret=True),
    Field("url_signing.secret_file", as_optional_path, None, "file holding that secret"),
    Field(
        "url_signing.previous_secret",
        as_optional_str,
        None,
        "the secret before a rotation: still opens the URLs it signed until they expire",
        secret=True,
    ),
    Field(
        "url_signing.previous_secrets_file",
        as_optional_path,
        None,
        "file of earlier secrets, one a line (opened, never used to sign)",
    ),
    Field("url_signing.ttl_seconds", as_positive_float, 3600.0, "lifetime of gateway URLs"),
    Field("logging.level", as_choice("debug", "info", "warning", "error"), "info", "log level"),
    Field("logging.format", as_choice("json", "text"), "json", "log format"),
    Field("logging.access_log", as_bool, True, "one JSON line per request on stdout"),
    Field("metrics.enabled", as_bool, True, "Prometheus metrics on the admin listener"),
    Field(
        "metrics.client_release_top_k",
        as_int(1, 1000),
        20,
        "app releases and SDKs that get their own metric label; the rest count as other",
    ),
    Field(
        "shadow.candidate_api_version",
        as_optional_version,
        None,
        "compare sampled reads at this pin (none = shadow comparison off)",
        lowest_version=3,
    ),
    Field(
        "shadow.upstream_url",
        as_optional_url,
        None,
        "upstream that serves the candidate version (default: the current upstream)",
    ),
    Field("shadow.sample_ratio", as_ratio, 0.01, "share of eligible reads compared (0..1)"),
    Field("shadow.max_concurrency", as_int(1, 1000), 4, "shadow comparisons at once; more skip"),
    Field(
        "shadow.routes",
        as_name_list(READ_ROUTES),
        ",".join(sorted(READ_ROUTES)),
        "routes compared (comma-separated; reads only)",
    ),
    Field(
        "shadow.max_calls_per_second",
        as_positive_float,
        20.0,
        "upstream calls shadow comparison may make per second (two per sample)",
    ),
    Field(
        "shadow.max_body_bytes",
        as_int(0, 1 << 26),
        256 * 1024,
        "answers larger than this (or without a length) are not compared",
    ),
    Field("shadow.timeout_seconds", as_positive_float, 10.0, "a sample's two calls, in all"),
    Field("shadow.samples_kept", as_int(1, 10_000), 100, "differences kept for GET /shadow"),
    Field(
        "shadow.show_values",
        as_bool,
        False,
        "show differing values at GET /shadow (off: their type and size only)",
    ),
    Field("shutdown.drain_seconds", as_positive_float, 5.0, "keep serving after SIGTERM"),
    Field("shutdown.timeout_seconds", as_positive_float, 20.0, "in-flight grace after drain"),
)

FIELDS_BY_PATH: dict[str, Field] = {f.path: f for f in FIELDS}
