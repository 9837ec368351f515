"""``kinvey-gateway demo``: an upgraded backend (the emulator serving only its newest version)
behind the gateway pinned to that version.

Shows the product's point in one terminal: old clients (v1, v3) get answers through the
gateway that the upgraded backend alone refuses, and the access log shows each request.
"""

from __future__ import annotations

import argparse

from aiohttp import web

from gateway.config_values import split_address
from gateway.emulator.config import NEWEST_API_VERSION
from gateway.settings import load_settings

DEMO_APP_KEY = "kid_demo"


# The setting to change when an address is taken: the flag, and `make demo`'s variable.
SETTING_NAMES = {
    "listen": "--listen (make demo DEMO_LISTEN=HOST:PORT)",
    "admin_listen": "--admin-listen (make demo DEMO_ADMIN=HOST:PORT)",
    "emulator_listen": "--emulator-listen (make demo DEMO_EMULATOR=HOST:PORT)",
}


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT", help="gateway")
    parser.add_argument(
        "--admin-listen", default="127.0.0.1:9090", metavar="HOST:PORT", help="gateway admin"
    )
    parser.add_argument(
        "--emulator-listen", default="127.0.0.1:7007", metavar="HOST:PORT", help="emulator"
    )
    parser.add_argument("--app-key", default=DEMO_APP_KEY, help="the emulator's one app")
    parser.add_argument("--app-secret", default="demo-secret", help="its app secret")
    parser.add_argument("--master-secret", default="demo-master", help="its master secret")


def _instructions(proxy: str, admin: str, emulator: str, key: str, secret: str) -> str:
    auth = f"-u {key}:{secret}"
    pin = NEWEST_API_VERSION
    return f"""
kinvey-gateway demo
  emulator (the upgraded Kinvey backend, API version {pin} only)  http://{emulator}
  gateway  (pinned to {pin}, serves clients on versions 0..{pin})     http://{proxy}
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

Each request the gateway answers is one access-log line below. Press Ctrl-C to stop.""".strip("\n")


async def _demo(args: argparse.Namespace) -> int:
    from gateway.app import GatewayRuntime
    from gateway.emulator import EmulatorConfig, create_emulator_app
    from gateway.startup import listen_error, start_runtime

    emulator_config = EmulatorConfig(
        min_api_version=NEWEST_API_VERSION,
        max_api_version=NEWEST_API_VERSION,
        default_api_version=NEWEST_API_VERSION,
        app_key=args.app_key,
        app_secret=args.app_secret,
        master_secret=args.master_secret,
    )
    emulator_runner = web.AppRunner(create_emulator_app(emulator_config), access_log=None)
    await emulator_runner.setup()
    host, port = split_address(args.emulator_listen)
    try:
        await web.TCPSite(emulator_runner, host, port).start()
    except OSError as exc:
        await emulator_runner.cleanup()
        raise listen_error(SETTING_NAMES["emulator_listen"], args.emulator_listen, exc) from None
    emulator_address = f"{host}:{emulator_runner.addresses[0][1]}"
    settings = load_settings(
        None,
        {
            f"KINVEY_GATEWAY_APP_SECRET_{args.app_key}": args.app_secret,
            "KINVEY_GATEWAY_URL_SIGNING_SECRET": "demo-url-signing-secret",
        },
        {
            "upstream.url": f"http://{emulator_address}",
            "upstream.api_version": NEWEST_API_VERSION,
            "listen": args.listen,
            "admin_listen": args.admin_listen,
            "shutdown.drain_seconds": 0.1,
            "shutdown.timeout_seconds": 5,
            "logging.format": "text",  # one readable key=value line per request
        },
        flag_names=SETTING_NAMES,
    )
    runtime = GatewayRuntime(settings)
    try:
        await start_runtime(runtime, SETTING_NAMES)
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
    from gateway.startup import run_until_done

    return run_until_done(_demo(args))
