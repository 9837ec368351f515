"""``kinvey-gateway demo``: an upgraded backend (emulator serving only v6) behind the gateway.

Shows the product's point in one terminal: old clients (v1, v3) get answers through the
gateway that the upgraded backend alone refuses.
"""

from __future__ import annotations

import argparse

from aiohttp import web

from gateway.config_values import split_address
from gateway.settings import load_settings

DEMO_APP_KEY = "kid_demo"


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT")
    parser.add_argument("--admin-listen", default="127.0.0.1:9090", metavar="HOST:PORT")
    parser.add_argument("--emulator-listen", default="127.0.0.1:7007", metavar="HOST:PORT")
    parser.add_argument("--app-key", default=DEMO_APP_KEY)
    parser.add_argument("--app-secret", default="demo-secret")
    parser.add_argument("--master-secret", default="demo-master")


def _instructions(proxy: str, admin: str, emulator: str, key: str, secret: str) -> str:
    auth = f"-u {key}:{secret}"
    return f"""
kinvey-gateway demo
  emulator (the upgraded Kinvey backend, API version 6 only)  http://{emulator}
  gateway  (pinned to 6, serves clients on versions 0..6)     http://{proxy}
  admin    (health, metrics, live dashboard)                   http://{admin}/dashboard

A v3 app's handshake through the gateway works:
  curl -i {auth} -H 'X-Kinvey-API-Version: 3' http://{proxy}/appdata/{key}
The same request straight to the upgraded backend is refused (400 APIVersionNotAvailable):
  curl -i {auth} -H 'X-Kinvey-API-Version: 3' http://{emulator}/appdata/{key}

A v1 app signs up (and gets its auth token, which v6 no longer returns), saves and deletes:
  curl -s {auth} -H 'X-Kinvey-API-Version: 1' -H 'Content-Type: application/json' \\
       -d '{{"username":"ada","password":"pw"}}' http://{proxy}/user/{key}
  curl -s -u ada:pw -H 'X-Kinvey-API-Version: 1' -H 'Content-Type: application/json' \\
       -d '{{"_id":"b1","title":"Dune"}}' http://{proxy}/appdata/{key}/books
  curl -i -u ada:pw -H 'X-Kinvey-API-Version: 1' -X DELETE http://{proxy}/appdata/{key}/books/b1
(v1 gets 204 No Content where v6 answers 200 {{"count": 1}}; user Basic auth, refused by v6,
 is exchanged for a session by the gateway.)

Press Ctrl-C to stop.""".strip("\n")


async def _demo(args: argparse.Namespace) -> int:
    from gateway.app import GatewayRuntime
    from gateway.emulator import EmulatorConfig, create_emulator_app

    emulator_config = EmulatorConfig(
        min_api_version=6,
        max_api_version=6,
        default_api_version=6,
        app_key=args.app_key,
        app_secret=args.app_secret,
        master_secret=args.master_secret,
    )
    emulator_runner = web.AppRunner(create_emulator_app(emulator_config), access_log=None)
    await emulator_runner.setup()
    host, port = split_address(args.emulator_listen)
    await web.TCPSite(emulator_runner, host, port).start()
    emulator_address = f"{host}:{emulator_runner.addresses[0][1]}"
    settings = load_settings(
        None,
        {
            f"KINVEY_GATEWAY_APP_SECRET_{args.app_key}": args.app_secret,
            "KINVEY_GATEWAY_URL_SIGNING_SECRET": "demo-url-signing-secret",
        },
        {
            "upstream.url": f"http://{emulator_address}",
            "upstream.api_version": 6,
            "listen": args.listen,
            "admin_listen": args.admin_listen,
            "shutdown.drain_seconds": 0.1,
            "shutdown.timeout_seconds": 5,
            "logging.access_log": False,
        },
    )
    runtime = GatewayRuntime(settings)
    try:
        await runtime.start()
        runtime.install_signal_handlers()
        assert runtime.proxy_address and runtime.admin_address
        proxy = f"{runtime.proxy_address[0]}:{runtime.proxy_address[1]}"
        admin = f"{runtime.admin_address[0]}:{runtime.admin_address[1]}"
        print(
            _instructions(proxy, admin, emulator_address, args.app_key, args.app_secret), flush=True
        )
        await runtime.wait_and_drain()
    finally:
        await runtime.stop()
        await emulator_runner.cleanup()
    print("demo stopped", flush=True)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.cli import _run

    return _run(_demo(args))
