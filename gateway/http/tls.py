"""TLS for both sides: verifying the upstream, and serving HTTPS with hot certificate reload.

Upstream: the system trust store plus an optional CA bundle or directory, an optional client
certificate (mutual TLS) and a minimum protocol version; SNI and ``Host`` follow the upstream
URL. Verification can only be switched off with ``upstream.tls.dangerously_disable_verification``.

Listener: certificate and key files are re-read when they change on disk (a Kubernetes Secret
update swaps the files); ``load_cert_chain`` on the live context makes every new handshake use
the new pair, while established connections keep theirs.

The options arrive typed (built from the settings by ``gateway.app``); an unusable file raises
``TlsFileError`` naming the setting it came from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
from dataclasses import dataclass

log = logging.getLogger("gateway.tls")
_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


class TlsFileError(Exception):
    """A certificate, key or CA file that cannot be used; the message starts with its setting."""


@dataclass(frozen=True, slots=True)
class UpstreamTls:
    min_version: str = "1.2"  # "1.2" or "1.3"
    ca_file: str | None = None
    ca_dir: str | None = None
    client_cert_file: str | None = None
    client_key_file: str | None = None
    verify: bool = True  # False only with upstream.tls.dangerously_disable_verification


@dataclass(frozen=True, slots=True)
class ListenerTls:
    cert_file: str
    key_file: str
    reload_interval_seconds: float = 2.0


def upstream_ssl_context(options: UpstreamTls) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = _VERSIONS[options.min_version]
    try:
        if options.ca_file or options.ca_dir:
            context.load_verify_locations(cafile=options.ca_file, capath=options.ca_dir)
    except (ssl.SSLError, OSError) as exc:
        raise TlsFileError(f"upstream.tls.ca_file: not a usable CA bundle ({_why(exc)})") from None
    if options.client_cert_file:
        try:
            context.load_cert_chain(options.client_cert_file, options.client_key_file)
        except (ssl.SSLError, OSError) as exc:
            raise TlsFileError(
                f"upstream.tls.client_cert_file: not a usable certificate/key ({_why(exc)})"
            ) from None
    if not options.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def storage_ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """File storage is not the upstream: the system trust store (plus ``storage.tls.ca_file``)
    and never the upstream's client certificate."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    try:
        if ca_file:
            context.load_verify_locations(cafile=ca_file)
    except (ssl.SSLError, OSError) as exc:
        raise TlsFileError(f"storage.tls.ca_file: not a usable CA bundle ({_why(exc)})") from None
    return context


def _why(exc: BaseException) -> str:
    return " ".join(str(getattr(exc, "reason", None) or exc).split())[:160]


class ReloadingServerContext:
    """A server SSLContext whose certificate follows its files on disk."""

    def __init__(self, cert_file: str, key_file: str, poll_seconds: float = 2.0) -> None:
        self.cert_file, self.key_file, self.poll_seconds = cert_file, key_file, poll_seconds
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._stamp = self._files_stamp()
        try:
            self.context.load_cert_chain(cert_file, key_file)
        except (ssl.SSLError, OSError) as exc:
            raise TlsFileError(
                f"tls.cert_file: not a usable certificate/key ({_why(exc)})"
            ) from None
        self._task: asyncio.Task[None] | None = None

    def _files_stamp(self) -> tuple[float, float, int, int]:
        cert, key = os.stat(self.cert_file), os.stat(self.key_file)
        return cert.st_mtime, key.st_mtime, cert.st_size, key.st_size

    def reload_if_changed(self) -> bool:
        try:
            stamp = self._files_stamp()
        except OSError:
            return False  # mid-swap: the Secret volume replaces files via a symlink flip
        if stamp == self._stamp:
            return False
        try:
            # Try the pair on a scratch context first: a half-updated pair (new certificate,
            # old key) would otherwise leave the live context with a mismatched key.
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                self.cert_file, self.key_file
            )
            self.context.load_cert_chain(self.cert_file, self.key_file)
        except (ssl.SSLError, OSError) as exc:
            log.warning("listener certificate not reloaded, keeping the old one: %s", _why(exc))
            return False
        self._stamp = stamp
        log.info("listener certificate reloaded from %s", self.cert_file)
        return True

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            self.reload_if_changed()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def listener_context(options: ListenerTls | None) -> ReloadingServerContext | None:
    if options is None:
        return None
    return ReloadingServerContext(
        options.cert_file, options.key_file, options.reload_interval_seconds
    )
