"""Command line: ``kinvey-gateway serve | emulator | demo | check-config | changelog``.

Flags override ``KINVEY_GATEWAY_*`` environment variables, which override the config file.
A bad configuration prints one line naming the key and the problem and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

import yaml

from gateway import __version__
from gateway.settings import ConfigError, Settings, effective_settings, load_settings

log = logging.getLogger("gateway")

# flag dest → settings path (flags never carry secrets)
SERVE_FLAGS = {
    "upstream": "upstream.url",
    "upstream_api_version": "upstream.api_version",
    "listen": "listen",
    "admin_listen": "admin_listen",
    "result_set_limit": "limits.result_set_limit",
    "default_client_api_version": "default_client_api_version",
}


def _run(main: Coroutine[Any, Any, int]) -> int:
    try:
        import uvloop  # the faster loop where the platform has it

        return int(uvloop.run(main))
    except ImportError:
        return asyncio.run(main)


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="YAML config file")
    parser.add_argument("--upstream", metavar="URL", help="upstream Kinvey base URL")
    parser.add_argument("--upstream-api-version", metavar="M", help="API version sent upstream")
    parser.add_argument("--listen", metavar="HOST:PORT", help="proxy listener")
    parser.add_argument("--admin-listen", metavar="HOST:PORT", help="health/metrics listener")
    parser.add_argument(
        "--default-client-api-version",
        metavar="N",
        help="version assumed for requests without X-Kinvey-API-Version (all apps)",
    )
    parser.add_argument("--result-set-limit", metavar="L", help="Kinvey result-set limit")


def settings_from_args(args: argparse.Namespace, environ: Any = None) -> Settings:
    overrides = {path: getattr(args, dest) for dest, path in SERVE_FLAGS.items()}
    return load_settings(args.config, environ, overrides)


def _warn_missing_app_secrets(settings: Settings) -> None:
    for app_key, app in sorted(settings.apps.items()):
        if app.app_secret is None:
            log.warning(
                "app %s has no app secret configured: its clients' user Basic auth cannot be "
                "exchanged for a session (set KINVEY_GATEWAY_APP_SECRET_%s)",
                app_key,
                app_key,
            )
    if settings.url_signing_secret is None:
        log.warning(
            "no url_signing secret configured: using a random one; several replicas need a "
            "shared secret (KINVEY_GATEWAY_URL_SIGNING_SECRET)"
        )
    if settings["upstream.tls.dangerously_disable_verification"]:
        log.warning("UPSTREAM TLS CERTIFICATE VERIFICATION IS DISABLED")


async def serve(settings: Settings, banner: bool = True) -> int:
    from gateway.app import GatewayRuntime

    runtime = GatewayRuntime(settings, tune_gc=True)
    await runtime.start()
    runtime.install_signal_handlers()
    if banner:
        assert runtime.proxy_address and runtime.admin_address
        print(
            f"kinvey-gateway {__version__} listening on http://{_fmt(runtime.proxy_address)} "
            f"(admin http://{_fmt(runtime.admin_address)}), upstream {settings['upstream.url']} "
            f"pinned to API version {settings.upstream_api_version}",
            flush=True,
        )
    await runtime.wait_and_drain()
    return 0


def _fmt(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"


def cmd_serve(args: argparse.Namespace) -> int:
    # First of all: an aiohttp this gateway was not tested with stops it here, with one line.
    from gateway.http import aiohttp_shim  # noqa: F401

    settings = settings_from_args(args)
    _configure_logging(settings)
    _warn_missing_app_secrets(settings)
    return _run(serve(settings))


def _configure_logging(settings: Settings) -> None:
    from gateway.observability.access_log import configure_logging

    configure_logging(settings["logging.level"], settings["logging.format"])


def cmd_check_config(args: argparse.Namespace) -> int:
    from gateway.http.tls import listener_context, upstream_ssl_context

    settings = load_settings(args.file)
    upstream_ssl_context(settings)  # certificate files must parse, not just exist
    listener_context(settings)
    print(yaml.safe_dump(effective_settings(settings), sort_keys=False), end="")
    return 0


def cmd_changelog(args: argparse.Namespace) -> int:
    from gateway.changes import BUNDLE
    from gateway.versioning.changelog import render_changelog

    sys.stdout.write(render_changelog(BUNDLE))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from gateway.demo import add_demo_arguments, cmd_demo
    from gateway.emulator.cli import add_emulator_arguments, run_emulator

    parser = argparse.ArgumentParser(
        prog="kinvey-gateway",
        description="Keep every Kinvey REST API version working in front of an upgraded backend.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the gateway")
    _add_serve_arguments(serve_parser)
    serve_parser.set_defaults(func=cmd_serve)
    emulator_parser = commands.add_parser("emulator", help="run the built-in Kinvey emulator")
    add_emulator_arguments(emulator_parser)
    emulator_parser.set_defaults(func=run_emulator)
    demo_parser = commands.add_parser("demo", help="emulator (v6 only) + gateway pinned to 6")
    add_demo_arguments(demo_parser)
    demo_parser.set_defaults(func=cmd_demo)
    check = commands.add_parser("check-config", help="validate a config file, print settings")
    check.add_argument("file", metavar="FILE")
    check.set_defaults(func=cmd_check_config)
    changelog = commands.add_parser("changelog", help="print the API changelog (Markdown)")
    changelog.set_defaults(func=cmd_changelog)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"kinvey-gateway: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        with contextlib.suppress(Exception):
            print(f"kinvey-gateway: {exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
