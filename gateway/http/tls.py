"""TLS for both sides: verifying the upstream, and serving HTTPS with hot certificate reload.

Upstream: the system trust store plus an optional CA bundle or directory, an optional client
certificate (mutual TLS) and a minimum protocol version; SNI and ``Host`` follow the upstream
URL. Verification can only be switched off with ``upstream.tls.dangerously_disable_verification``.

Listener: certificate and key files are re-read when they change on disk (a Kubernetes Secret
update swaps the files); ``load_cert_chain`` on the live context makes every new handshake use
the new pair, while established connections keep theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl

from gateway.settings import ConfigError, Settings

log = logging.getLogger("gateway.tls")
_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def upstream_ssl_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = _VERSIONS[settings["upstream.tls.min_version"]]
    ca_file, ca_dir = settings["upstream.tls.ca_file"], settings["upstream.tls.ca_dir"]
    try:
        if ca_file or ca_dir:
            context.load_verify_locations(cafile=ca_file, capath=ca_dir)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"upstream.tls.ca_file: not a usable CA bundle ({_why(exc)})") from None
    cert, key = settings["upstream.tls.client_cert_file"], settings["upstream.tls.client_key_file"]
    if cert:
        try:
            context.load_cert_chain(cert, key)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(
                f"upstream.tls.client_cert_file: not a usable certificate/key ({_why(exc)})"
            ) from None
    if settings["upstream.tls.dangerously_disable_verification"]:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def storage_ssl_context(settings: Settings) -> ssl.SSLContext:
    """File storage is not the upstream: the system trust store (plus ``storage.tls.ca_file``)
    and never the upstream's client certificate."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca_file = settings["storage.tls.ca_file"]
    try:
        if ca_file:
            context.load_verify_locations(cafile=ca_file)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"storage.tls.ca_file: not a usable CA bundle ({_why(exc)})") from None
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
            raise ConfigError(
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


def listener_context(settings: Settings) -> ReloadingServerContext | None:
    cert, key = settings["tls.cert_file"], settings["tls.key_file"]
    if not cert:
        return None
    return ReloadingServerContext(cert, key, settings["tls.reload_interval_seconds"])
