"""Starting a gateway as an operator sees it: warnings about the settings, and listeners that
cannot bind reported as the setting to change (``--listen: 127.0.0.1:8080 is already in use``).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from gateway.settings import ConfigError, Settings

if TYPE_CHECKING:
    from gateway.app import GatewayRuntime

log = logging.getLogger("gateway")


def warn_about_settings(settings: Settings) -> None:
    """What an operator should know before the first request: logged once at start."""
    for app_key, app in sorted(settings.apps.items()):
        if app.app_secret is None:
            log.warning(
                "app %s has no app secret configured: its clients' user Basic auth cannot be "
                "exchanged for a session, nor files removed for v0-v2 clients "
                "(set KINVEY_GATEWAY_APP_SECRET_%s)",
                app_key,
                app_key,
            )
    _warn_basic_auth_without_apps(settings)
    if settings.url_signing_secret is None:
        log.warning(
            "no url_signing secret configured: using a random one; several replicas need a "
            "shared secret (KINVEY_GATEWAY_URL_SIGNING_SECRET)"
        )
    if settings.upstream.tls.dangerously_disable_verification:
        log.warning("UPSTREAM TLS CERTIFICATE VERIFICATION IS DISABLED")


def _warn_basic_auth_without_apps(settings: Settings) -> None:
    """No app secret at all while the pin refuses user Basic: every old app's login gets 401."""
    from gateway.changes.v6_basic_user_auth_refused import BasicUserAuthRefused

    refused_from = BasicUserAuthRefused.introduced_in
    if settings.upstream_api_version < refused_from:
        return
    if not any(app.app_secret for app in settings.apps.values()):
        log.warning(
            "upstream pinned to API version %d, which refuses user Basic auth, and no app has "
            "an app secret: every old app's user Basic request will get 401 (add "
            "apps.<appKey>.app_secret_file or KINVEY_GATEWAY_APP_SECRET_<appKey>)",
            settings.upstream_api_version,
        )


def listen_error(setting: str, address: str, exc: OSError) -> ConfigError:
    """A listener that could not bind, named by the setting that chose its address."""
    if isinstance(exc, socket.gaierror):
        problem = f"cannot resolve the host of {address} ({exc.strerror}); use an IP address"
    elif exc.errno == errno.EADDRINUSE:
        problem = f"{address} is already in use by another process; choose a free port"
    elif exc.errno == errno.EADDRNOTAVAIL:
        problem = f"{address} is not an address of this machine"
    elif exc.errno == errno.EACCES:
        problem = f"no permission to listen on {address} (ports below 1024 need privileges)"
    else:
        problem = f"cannot listen on {address} ({exc.strerror or exc})"
    return ConfigError(f"{setting}: {problem}")


def run_until_done(main: Coroutine[Any, Any, int]) -> int:
    """Run a command's coroutine to its exit status, on uvloop where the platform has it."""
    try:
        import uvloop

        return int(uvloop.run(main))
    except ImportError:
        return asyncio.run(main)


async def start_runtime(runtime: GatewayRuntime, setting_names: Mapping[str, str]) -> None:
    """Start the listeners; a bind failure becomes a ConfigError naming the setting to change."""
    try:
        await runtime.start()
    except OSError as exc:
        settings = runtime.settings
        path, address = (
            ("listen", settings.listen)
            if runtime.proxy_address is None
            else ("admin_listen", settings.admin_listen)
        )
        await runtime.stop()
        raise listen_error(setting_names[path], address, exc) from None
