"""The benchmark harness against real tools: wrk, the nginx upstream and the plain proxy."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bench import fixtures as fx
from bench import targets, tools, wrk
from bench.procs import ProcessSet, cpu_seconds, process_tree, status_kib


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    tools.ensure_tools()  # installs nginx-light and wrk with apt-get when missing


async def test_wrk_script_sends_the_request_and_reports_it(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    seen: list[tuple[str, str | None, bytes]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(
            (request.method, request.headers.get("X-Kinvey-API-Version"), await request.read())
        )
        return web.json_response({"ok": True}, status=201)

    app = web.Application()
    app.router.add_route("*", "/appdata/kid_bench/books", record)
    server = await aiohttp_server(app)
    body = tmp_path / "body.json"
    body.write_text(fx.POST_BODY_JSON)
    script = tmp_path / "post.lua"
    script.write_text(wrk.render_lua("POST", (("X-Kinvey-API-Version", "6"),), body))
    url = f"http://127.0.0.1:{server.port}/appdata/kid_bench/books"

    result = await asyncio.to_thread(
        wrk.run_wrk, url, script, connections=2, duration_s=1, cpu=None
    )

    assert result.requests > 0
    assert result.errors == 0
    assert len(seen) >= result.requests  # wrk counts only completed responses
    assert set(seen) == {("POST", "6", fx.POST_BODY_JSON.encode())}


def _call(
    url: str, method: str = "GET", version: str = "6", extra: dict[str, str] | None = None
) -> tuple[int, Any, bytes]:
    headers = {"X-Kinvey-API-Version": version, **(extra or {})}
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("bench")
    with ProcessSet() as ps:
        upstream = targets.start_upstream(ps, workdir)
        plain = targets.start_plain(ps, workdir, upstream.base_url)
        yield {"ps": ps, "upstream": upstream, "plain": plain, "workdir": workdir}


def test_upstream_serves_kinvey_shaped_answers(stack: dict[str, Any]) -> None:
    base = stack["upstream"].base_url
    status, headers, body = _call(base + fx.ENTITY_PATH)
    assert (status, body.decode()) == (200, fx.ENTITY_JSON)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Kinvey-API-Version"] == "6"
    assert _call(base + fx.ENTITY_PATH, "DELETE")[:3:2] == (200, b'{"count":1}')
    assert _call(base + fx.COLLECTION_PATH, "POST")[0] == 201
    assert _call(base + fx.BLOB_PATH, "POST")[0] == 400  # no X-Kinvey-Content-Type
    assert (
        _call(base + fx.BLOB_PATH, "POST", extra={"X-Kinvey-Content-Type": "image/png"})[0] == 201
    )
    status, headers, body = _call(base + fx.DOWNLOAD_PATH)
    assert (status, len(body)) == (200, fx.BIG_BODY_BYTES)


def test_upload_sink_reads_the_whole_body_before_answering(stack: dict[str, Any]) -> None:
    data = b"z" * fx.BIG_BODY_BYTES
    request = urllib.request.Request(
        stack["upstream"].base_url + fx.UPLOAD_PATH, data=data, method="PUT"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        assert response.headers.get_all("X-Kinvey-API-Version") == ["6"]
        assert response.read().decode() == fx.UPLOAD_DONE_JSON


def test_plain_proxy_relays_and_translates_only_a_v1_delete(stack: dict[str, Any]) -> None:
    base = stack["plain"].base_url
    status, headers, body = _call(base + fx.ENTITY_PATH, "DELETE", version="1")
    assert (status, body, headers.get("Content-Type")) == (204, b"", None)
    assert _call(base + fx.ENTITY_PATH, "DELETE", version="6")[:3:2] == (200, b'{"count":1}')
    status, headers, body = _call(base + fx.ENTITY_PATH)
    assert (status, body.decode(), headers["X-Kinvey-API-Version"]) == (200, fx.ENTITY_JSON, "6")
    status, _, body = _call(base + fx.DOWNLOAD_PATH)
    assert (status, len(body)) == (200, fx.BIG_BODY_BYTES)


def test_proc_readers_see_the_nginx_master_and_worker(stack: dict[str, Any]) -> None:
    upstream = stack["upstream"]
    tree = process_tree(upstream.proc.pid)
    assert tree[0] == upstream.proc.pid and len(tree) == 2  # worker_processes 1
    assert status_kib(tree, "VmRSS") > 0
    assert cpu_seconds(tree) >= 0


def test_process_set_stops_everything_it_started(tmp_path: Path) -> None:
    with ProcessSet() as ps:
        upstream = targets.start_upstream(ps, tmp_path)
        tree = process_tree(upstream.proc.pid)
    assert upstream.proc.popen.poll() is not None
    for pid in tree:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )
