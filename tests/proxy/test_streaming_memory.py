"""A 1 GiB upload and download pass through a real gateway process in bounded memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import psutil
import pytest

from tests.conftest import StartUpstream
from tests.support.echo_upstream import EchoUpstream
from tests.support.processes import free_port, gateway_process, serve_args

GIB = 1 << 30
RSS_LIMIT = 100 * 1024 * 1024


async def _sample_rss(pid: int, peak: list[int], stop: asyncio.Event) -> None:
    process = psutil.Process(pid)
    while not stop.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        await asyncio.sleep(0.05)


async def _upload_body(total: int) -> AsyncIterator[bytes]:
    block = b"u" * (1 << 20)
    for _ in range(total // len(block)):
        yield block


@pytest.mark.slow
async def test_one_gib_each_way_in_bounded_memory(start_upstream: StartUpstream) -> None:
    upstream_url = await start_upstream(EchoUpstream().app())
    port, admin = free_port(), free_port()
    with gateway_process(serve_args(upstream_url, port, admin), admin_port=admin) as process:
        peak = [0]
        stop = asyncio.Event()
        sampler = asyncio.create_task(_sample_rss(process.pid, peak, stop))
        base = f"http://127.0.0.1:{port}"
        timeout = aiohttp.ClientTimeout(total=300)
        async with aiohttp.ClientSession(timeout=timeout) as client:
            async with client.post(
                base + "/fake/sink",
                data=_upload_body(GIB),
                headers={"Content-Length": str(GIB), "Content-Type": "application/octet-stream"},
            ) as response:
                assert response.status == 200
                assert (await response.json())["received"] == GIB
            received = 0
            async with client.get(base + f"/fake/source?bytes={GIB}") as response:
                assert response.status == 200
                async for chunk in response.content.iter_any():
                    received += len(chunk)
            assert received == GIB
        stop.set()
        await sampler
    assert peak[0] < RSS_LIMIT, f"gateway peak RSS {peak[0] / 2**20:.1f} MiB"
