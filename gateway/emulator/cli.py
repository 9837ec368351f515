"""``kinvey-gateway emulator``: run the built-in Kinvey emulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from aiohttp import web

from gateway.emulator.app import create_emulator_app
from gateway.emulator.config import EmulatorConfig

DEFAULT_LISTEN = "127.0.0.1:7007"
_DEFAULTS = EmulatorConfig()


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 as ``[::1]:PORT``) → (host, port)."""
    host, colon, port_text = text.rpartition(":")
    if not colon or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port_text)


def add_emulator_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"address to listen on (default {DEFAULT_LISTEN}; port 0 picks a free one)",
    )
    versions = parser.add_argument_group("API versions")
    versions.add_argument("--min-api-version", type=int, default=_DEFAULTS.min_api_version)
    versions.add_argument("--max-api-version", type=int, default=_DEFAULTS.max_api_version)
    versions.add_argument(
        "--default-api-version",
        type=int,
        default=None,
        help="version for requests without X-Kinvey-API-Version (default: the max version)",
    )
    app = parser.add_argument_group("app credentials")
    app.add_argument("--app-key", default=_DEFAULTS.app_key, help="(default: %(default)s)")
    app.add_argument("--app-secret", default=_DEFAULTS.app_secret, help="(default: %(default)s)")
    app.add_argument(
        "--master-secret", default=_DEFAULTS.master_secret, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--result-set-limit",
        type=int,
        default=_DEFAULTS.result_set_limit,
        help="most entities a query may return (v4+ refuse more, v3 and below truncate)",
    )
    parser.add_argument(
        "--public-base-url",
        default=None,
        help="base of the storage URLs handed out (default: scheme and Host of the request)",
    )


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    default_version = args.default_api_version
    if default_version is None:
        default_version = args.max_api_version
    return EmulatorConfig(
        min_api_version=args.min_api_version,
        max_api_version=args.max_api_version,
        default_api_version=default_version,
        app_key=args.app_key,
        app_secret=args.app_secret,
        master_secret=args.master_secret,
        result_set_limit=args.result_set_limit,
        public_base_url=getattr(args, "public_base_url", None),
    )


async def _serve(config: EmulatorConfig, host: str, port: int) -> None:
    runner = web.AppRunner(create_emulator_app(config), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = port
        for address in runner.addresses:
            bound_port = int(address[1])
            break
        shown_host = f"[{host}]" if ":" in host else host
        print(
            f"emulator listening on http://{shown_host}:{bound_port} "
            f"(API versions {config.min_api_version}-{config.max_api_version})",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def run_emulator(args: argparse.Namespace) -> int:
    try:
        host, port = parse_listen(args.listen)
        config = config_from_args(args)
    except (argparse.ArgumentTypeError, ValueError) as exc:
        print(f"kinvey-gateway emulator: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(config, host, port))
    except OSError as exc:
        print(f"kinvey-gateway emulator: cannot listen on {args.listen}: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the emulator on its own (``python -m gateway.emulator.cli``)."""
    parser = argparse.ArgumentParser(prog="kinvey-gateway emulator", description=__doc__)
    add_emulator_arguments(parser)
    return run_emulator(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
