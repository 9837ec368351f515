"""deploy/image/healthcheck.py (the image's HEALTHCHECK) against real local servers."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer
from deploy_support import REPO, clean_environ
from gateway_process import free_port

SCRIPT = REPO / "deploy" / "image" / "healthcheck.py"


async def _run(env_admin: str | None, config: Path) -> int:
    env = clean_environ()
    if env_admin is not None:
        env["KINVEY_GATEWAY_ADMIN_LISTEN"] = env_admin
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), str(config), env=env
    )
    return await asyncio.wait_for(process.wait(), 30)


async def _admin(status: int) -> TestServer:
    async def healthz(request: web.Request) -> web.Response:
        return web.Response(status=status)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    return server


async def test_healthy_when_healthz_answers_200_on_the_env_address(tmp_path: Path) -> None:
    server = await _admin(200)
    try:
        assert await _run(f"0.0.0.0:{server.port}", tmp_path / "none.yaml") == 0
    finally:
        await server.close()


async def test_unhealthy_on_503_or_nothing_listening(tmp_path: Path) -> None:
    server = await _admin(503)
    try:
        assert await _run(f"127.0.0.1:{server.port}", tmp_path / "none.yaml") == 1
    finally:
        await server.close()
    assert await _run(f"127.0.0.1:{free_port()}", tmp_path / "none.yaml") == 1


async def test_reads_admin_listen_from_the_config_file_without_env(tmp_path: Path) -> None:
    server = await _admin(200)
    config = tmp_path / "gateway.yaml"
    config.write_text(f'admin_listen: "0.0.0.0:{server.port}"\n', encoding="utf-8")
    try:
        assert await _run(None, config) == 0
    finally:
        await server.close()
