"""TLS for both sides, from the settings: the transport's typed options built once at start.

``gateway.http.tls`` knows no settings; an unusable certificate, key or CA file it reports
(``TlsFileError``, naming the setting) becomes a ``ConfigError`` here, like any other bad
setting.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import TypeVar

from gateway.http.tls import (
    ListenerTls,
    ReloadingServerContext,
    TlsFileError,
    UpstreamTls,
    listener_context,
    storage_ssl_context,
    upstream_ssl_context,
)
from gateway.settings import ConfigError, Settings

Options = TypeVar("Options")
Built = TypeVar("Built")


def _checked(build: Callable[[Options], Built], options: Options) -> Built:
    try:
        return build(options)
    except TlsFileError as exc:
        raise ConfigError(str(exc)) from None


def upstream_tls(settings: Settings) -> ssl.SSLContext:
    options = UpstreamTls(
        min_version=settings["upstream.tls.min_version"],
        ca_file=settings["upstream.tls.ca_file"],
        ca_dir=settings["upstream.tls.ca_dir"],
        client_cert_file=settings["upstream.tls.client_cert_file"],
        client_key_file=settings["upstream.tls.client_key_file"],
        verify=not settings["upstream.tls.dangerously_disable_verification"],
    )
    return _checked(upstream_ssl_context, options)


def storage_tls(settings: Settings) -> ssl.SSLContext:
    return _checked(storage_ssl_context, settings["storage.tls.ca_file"])


def listener_tls(settings: Settings) -> ReloadingServerContext | None:
    cert = settings["tls.cert_file"]
    options = (
        ListenerTls(cert, settings["tls.key_file"], settings["tls.reload_interval_seconds"])
        if cert
        else None
    )
    return _checked(listener_context, options)
