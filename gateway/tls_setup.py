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
    tls = settings.upstream.tls
    options = UpstreamTls(
        min_version=tls.min_version,
        ca_file=tls.ca_file,
        ca_dir=tls.ca_dir,
        client_cert_file=tls.client_cert_file,
        client_key_file=tls.client_key_file,
        verify=not tls.dangerously_disable_verification,
    )
    return _checked(upstream_ssl_context, options)


def storage_tls(settings: Settings) -> ssl.SSLContext:
    return _checked(storage_ssl_context, settings.storage.tls.ca_file)


def listener_tls(settings: Settings) -> ReloadingServerContext | None:
    tls = settings.tls  # the loader has checked that both files or neither are given
    options = (
        ListenerTls(tls.cert_file, tls.key_file, tls.reload_interval_seconds)
        if tls.cert_file and tls.key_file
        else None
    )
    return _checked(listener_context, options)
