"""Command line: ``kinvey-gateway serve | emulator | demo | check-config | changelog |
shadow-report``.

Flags override ``KINVEY_GATEWAY_*`` environment variables, which override the config file.
A bad configuration prints one line per problem, naming the flag, variable or key as the user
wrote it, and exits 2.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import yaml

from gateway import __version__
from gateway.config_schema import FIELDS_BY_PATH
from gateway.settings import (
    ConfigError,
    Settings,
    effective_settings,
    load_settings,
    require_upstream,
)
from gateway.startup import run_until_done, start_runtime, warn_about_settings

# flag dest → settings path (flags never carry secrets)
SERVE_FLAGS = {
    "upstream": "upstream.url",
    "upstream_api_version": "upstream.api_version",
    "listen": "listen",
    "admin_listen": "admin_listen",
    "result_set_limit": "limits.result_set_limit",
    "default_client_api_version": "default_client_api_version",
}
FLAG_NAMES = {path: "--" + dest.replace("_", "-") for dest, path in SERVE_FLAGS.items()}


def newest_known_version() -> int:
    """Kinvey's newest version, or a newer one a change file in gateway/changes/ introduces."""
    from gateway.changes import BUNDLE
    from gateway.kinvey import version_header

    return version_header.newest_known_version(BUNDLE.newest_version)


def _default(path: str) -> str:
    default = FIELDS_BY_PATH[path].default
    return "none" if default is None else str(default)


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="YAML config file")
    parser.add_argument(
        "--upstream", metavar="URL", help="upstream Kinvey base URL (required; no default)"
    )
    parser.add_argument(
        "--upstream-api-version",
        metavar="M",
        help=f"API version sent upstream (default: {_default('upstream.api_version')})",
    )
    parser.add_argument(
        "--listen", metavar="HOST:PORT", help=f"proxy listener (default: {_default('listen')})"
    )
    parser.add_argument(
        "--admin-listen",
        metavar="HOST:PORT",
        help=f"health/metrics listener (default: {_default('admin_listen')})",
    )
    parser.add_argument(
        "--default-client-api-version",
        metavar="N",
        help="version assumed for requests without X-Kinvey-API-Version, all apps "
        "(default: the upstream pin)",
    )
    parser.add_argument(
        "--result-set-limit",
        metavar="L",
        help=f"Kinvey result-set limit (default: {_default('limits.result_set_limit')})",
    )


def settings_from_args(args: argparse.Namespace, environ: Any = None) -> Settings:
    overrides = {path: getattr(args, dest) for dest, path in SERVE_FLAGS.items()}
    return load_settings(
        args.config,
        environ,
        overrides,
        flag_names=FLAG_NAMES,
        newest_version=newest_known_version(),
    )


async def serve(settings: Settings, banner: bool = True) -> int:
    from gateway.app import GatewayRuntime

    runtime = GatewayRuntime(settings, tune_gc=True)
    await start_runtime(runtime, {path: settings.source(path) for path in _LISTENERS})
    runtime.install_signal_handlers()
    if banner:
        assert runtime.proxy_address and runtime.admin_address
        print(
            f"kinvey-gateway {__version__} listening on http://{_fmt(runtime.proxy_address)} "
            f"(admin http://{_fmt(runtime.admin_address)}), upstream {settings.upstream.url} "
            f"pinned to API version {settings.upstream_api_version}",
            flush=True,
        )
    await runtime.wait_and_drain()
    return 0


_LISTENERS = ("listen", "admin_listen")


def _fmt(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"


def cmd_serve(args: argparse.Namespace) -> int:
    # First of all: an aiohttp this gateway was not tested with stops it here, with one line.
    from gateway.http import aiohttp_shim  # noqa: F401

    settings = settings_from_args(args)
    require_upstream(settings)
    _configure_logging(settings)
    warn_about_settings(settings)
    return run_until_done(serve(settings))


def _configure_logging(settings: Settings) -> None:
    from gateway.observability.access_log import configure_logging

    configure_logging(settings.logging.level, settings.logging.format)


def cmd_check_config(args: argparse.Namespace) -> int:
    from gateway.tls_setup import listener_tls, upstream_tls

    try:
        settings = load_settings(
            args.file, newest_version=newest_known_version(), offline=args.offline
        )
    except ConfigError as exc:
        if exc.absent_files:
            raise ConfigError(
                *exc.problems,
                "(a config written for another machine, e.g. a pod's mounted secrets? "
                "check it with check-config --offline)",
            ) from None
        raise
    # Certificate files must parse, not just exist (offline: the ones that are here).
    upstream = settings.upstream.tls
    if _all_present(upstream.ca_file, upstream.client_cert_file, upstream.client_key_file):
        upstream_tls(settings)
    if _all_present(settings.tls.cert_file, settings.tls.key_file):
        listener_tls(settings)
    for note in settings.unchecked_files:
        print(f"kinvey-gateway: offline, not checked: {note}", file=sys.stderr)
    if not settings.upstream.url:  # a partial config (the image's) the environment completes
        print(
            "kinvey-gateway: note: no upstream here; serve needs --upstream, "
            "KINVEY_GATEWAY_UPSTREAM_URL or upstream.url",
            file=sys.stderr,
        )
    print(yaml.safe_dump(effective_settings(settings), sort_keys=False), end="")
    return 0


def _all_present(*files: str | None) -> bool:
    return all(os.path.exists(file) for file in files if file)


def cmd_changelog(args: argparse.Namespace) -> int:
    from gateway.changes import BUNDLE
    from gateway.versioning.changelog import render_changelog

    sys.stdout.write(render_changelog(BUNDLE))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from gateway.demo import add_demo_arguments, cmd_demo
    from gateway.emulator.cli import add_emulator_arguments, run_emulator
    from gateway.shadow.report import add_shadow_report_arguments, cmd_shadow_report

    parser = argparse.ArgumentParser(
        prog="kinvey-gateway",
        description="Keep every Kinvey REST API version working in front of an upgraded backend.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the gateway")
    _add_serve_arguments(serve_parser)
    serve_parser.set_defaults(func=cmd_serve)
    emulator_parser = commands.add_parser(
        "emulator",
        help="run the built-in Kinvey emulator",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_emulator_arguments(emulator_parser)
    emulator_parser.set_defaults(func=run_emulator)
    demo_parser = commands.add_parser(
        "demo",
        help="the built-in emulator (newest version only) behind a gateway pinned to it",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_demo_arguments(demo_parser)
    demo_parser.set_defaults(func=cmd_demo)
    check = commands.add_parser("check-config", help="validate a config file, print settings")
    check.add_argument("file", metavar="FILE")
    check.add_argument(
        "--offline",
        action="store_true",
        help="for a config written for another machine (a pod): secret and certificate files "
        "are checked only where they exist here",
    )
    check.set_defaults(func=cmd_check_config)
    changelog = commands.add_parser("changelog", help="print the API changelog (Markdown)")
    changelog.set_defaults(func=cmd_changelog)
    shadow = commands.add_parser(
        "shadow-report", help="is it safe to raise the pin? (a running gateway's shadow results)"
    )
    add_shadow_report_arguments(shadow)
    shadow.set_defaults(func=cmd_shadow_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"kinvey-gateway: config error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        with contextlib.suppress(Exception):
            print(f"kinvey-gateway: {exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
