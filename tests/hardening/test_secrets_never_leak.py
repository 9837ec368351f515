"""Recognizable secrets driven through every kind of route never show up where they must not.

A real gateway process (access log on, debug logging) in front of the emulator; every route at
several client versions, with secrets in Basic auth, login and signup bodies, session tokens,
URLs the gateway hands out, and malformed requests. Afterwards stdout, stderr, /metrics and
every error body are searched for each secret.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.emulator import EmulatorConfig, create_emulator_app
from tests.support.background import raw_exchange
from tests.support.processes import free_port, stop_process, wait_http

APP_KEY = "kid_leak"
APP_SECRET = "APPSECRET-7f3a9c"
MASTER_SECRET = "MASTERSECRET-51be2d"
PASSWORD = "PASSWORD-c0ffee42"
SIGNING_SECRET = "SIGNINGSECRET-d00d"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Recorder:
    def __init__(self, base: str) -> None:
        self.base = base
        self.error_bodies: list[str] = []
        self.tokens: set[str] = set()

    async def call(
        self,
        client: aiohttp.ClientSession,
        method: str,
        path: str,
        version: int,
        auth: str | None,
        body: Any = None,
    ) -> tuple[int, Any]:
        headers = {"X-Kinvey-API-Version": str(version)}
        if auth:
            headers["Authorization"] = auth
        async with client.request(
            method, self.base + path, headers=headers, json=body, allow_redirects=False
        ) as response:
            text = await response.text()
            if response.status >= 400:
                self.error_bodies.append(text)
            try:
                payload = json.loads(text) if text else None
            except ValueError:
                payload = text
        if isinstance(payload, dict):
            token = payload.get("_kmd", {}).get("authtoken") or payload.get("authToken")
            if token:
                self.tokens.add(token)
        return response.status, payload


async def _drive(base: str, proxy_port: int) -> Recorder:
    rec = Recorder(base)
    app, master = _basic(APP_KEY, APP_SECRET), _basic(APP_KEY, MASTER_SECRET)
    async with aiohttp.ClientSession() as client:
        for version in (0, 1, 3, 4, 5, 6):
            user = f"user{version}"
            user_basic = _basic(user, PASSWORD)
            await rec.call(client, "GET", f"/appdata/{APP_KEY}", version, app)
            status, created = await rec.call(
                client,
                "POST",
                f"/user/{APP_KEY}",
                version,
                app,
                {"username": user, "password": PASSWORD},
            )
            await rec.call(
                client,
                "POST",
                f"/user/{APP_KEY}/login",
                version,
                app,
                {"username": user, "password": PASSWORD + "-wrong"},
            )
            _, login = await rec.call(
                client,
                "POST",
                f"/user/{APP_KEY}/login",
                version,
                app,
                {"username": user, "password": PASSWORD},
            )
            token = next(iter(rec.tokens), None)
            session = f"Kinvey {token}" if token and version >= 1 else user_basic
            await rec.call(client, "GET", f"/user/{APP_KEY}/_me", version, user_basic)
            await rec.call(
                client, "GET", f"/user/{APP_KEY}/_me", version, _basic(user, PASSWORD + "-wrong")
            )
            await rec.call(
                client,
                "POST",
                f"/appdata/{APP_KEY}/things",
                version,
                session,
                {"_id": f"t{version}", "v": version},
            )
            await rec.call(client, "GET", f"/appdata/{APP_KEY}/things/missing", version, session)
            await rec.call(
                client, "DELETE", f"/appdata/{APP_KEY}/things/t{version}", version, session
            )
            await rec.call(
                client, "GET", f"/appdata/{APP_KEY}/things?query=%7Bbad", version, session
            )
            if version <= 2:
                _, loc = await rec.call(
                    client, "GET", f"/blob/{APP_KEY}/remove-loc/f{version}", version, session
                )
                if isinstance(loc, dict) and "URI" in loc:
                    async with client.delete(loc["URI"]) as response:
                        if response.status >= 400:
                            rec.error_bodies.append(await response.text())
            else:
                await rec.call(
                    client,
                    "POST",
                    f"/blob/{APP_KEY}",
                    version,
                    session,
                    {"_filename": "f.txt", "mimeType": "text/plain"},
                )
            await rec.call(
                client,
                "POST",
                f"/rpc/{APP_KEY}/custom/echo",
                version,
                session,
                {"secret": "not-a-credential"},
            )
            await rec.call(
                client,
                "POST",
                f"/user/{APP_KEY}/login",
                version,
                master,
                {"_socialIdentity": {"facebook": {"access_token": PASSWORD}}},
            )
            if isinstance(created, dict) and created.get("_id"):
                await rec.call(
                    client, "DELETE", f"/user/{APP_KEY}/{created['_id']}?hard=true", version, master
                )
            del status, login
    # Malformed requests carrying secrets: parser errors must not echo them anywhere.
    for payload in (
        f"GET /appdata/{APP_KEY} HTTP/1.1\r\nHost: x\r\nAuthorization: {app}\x00bad\r\n\r\n",
        f"GET /appdata/{APP_KEY} HTTP/1.1\r\nHost: x\r\nX-Pw: {PASSWORD}\r\n"
        f"Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
        f"POST /user/{APP_KEY}/login HTTP/1.1\r\nHost: x\r\nAuthorization: {app}\r\n"
        f"X-Kinvey-API-Version: 3\r\nContent-Type: application/json\r\nContent-Length: 30\r\n"
        f'\r\n{{"password": "{PASSWORD}"',
    ):
        answer = raw_exchange(proxy_port, payload.encode())
        rec.error_bodies.append(answer.decode("latin-1"))
    return rec


@pytest.mark.slow
async def test_secrets_never_reach_logs_metrics_or_error_bodies(tmp_path: Path) -> None:
    runner = web.AppRunner(
        create_emulator_app(
            EmulatorConfig(
                app_key=APP_KEY,
                app_secret=APP_SECRET,
                master_secret=MASTER_SECRET,
                min_api_version=6,
                max_api_version=6,
                default_api_version=6,
            )
        )
    )
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    upstream = f"http://127.0.0.1:{runner.addresses[0][1]}"
    proxy, admin = free_port(), free_port()
    out, err = (tmp_path / "stdout").open("wb"), (tmp_path / "stderr").open("wb")
    env = {
        "PATH": "/usr/bin:/bin",
        f"KINVEY_GATEWAY_APP_SECRET_{APP_KEY}": APP_SECRET,
        "KINVEY_GATEWAY_URL_SIGNING_SECRET": SIGNING_SECRET,
        "KINVEY_GATEWAY_LOGGING_LEVEL": "debug",
        "KINVEY_GATEWAY_LOGGING_ACCESS_LOG": "true",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            "serve",
            "--upstream",
            upstream,
            "--upstream-api-version",
            "6",
            "--listen",
            f"127.0.0.1:{proxy}",
            "--admin-listen",
            f"127.0.0.1:{admin}",
        ],
        stdout=out,
        stderr=err,
        env=env,
    )
    try:
        await asyncio.to_thread(wait_http, f"http://127.0.0.1:{admin}/readyz", 20, process)
        rec = await _drive(f"http://127.0.0.1:{proxy}", proxy)
        async with (
            aiohttp.ClientSession() as client,
            client.get(f"http://127.0.0.1:{admin}/metrics") as response,
        ):
            metrics = await response.text()
    finally:
        assert stop_process(process) == 0
        out.close()
        err.close()
        await runner.cleanup()
    logs = (tmp_path / "stdout").read_text() + (tmp_path / "stderr").read_text()
    assert '"route"' in logs, "the access log ran (otherwise this test proves nothing)"
    secrets = [
        APP_SECRET,
        MASTER_SECRET,
        PASSWORD,
        SIGNING_SECRET,
        base64.b64encode(f"{APP_KEY}:{APP_SECRET}".encode()).decode(),
        *(base64.b64encode(f"user{v}:{PASSWORD}".encode()).decode() for v in range(7)),
        *rec.tokens,
    ]
    assert rec.tokens, "logins produced session tokens to look for"
    for where, text in (
        ("logs", logs),
        ("metrics", metrics),
        ("error bodies", "\n".join(rec.error_bodies)),
    ):
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"
