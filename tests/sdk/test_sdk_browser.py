"""A browser app, the fourth client generation: kinvey-html5-sdk 3.12.5 in headless Chromium.

Hybrid apps (PhoneGap/Cordova/Ionic) ran the HTML5 SDK in a web view and called Kinvey
cross-origin. Here the page is served from one 127.0.0.1 port and the gateway (pinned to 6, in
front of a v6-only emulator) listens on another, so every SDK call is cross-origin and Chromium
makes its real CORS preflights (the SDK sends ``Authorization`` and ``X-Kinvey-Api-Version``,
which no simple request may carry). The session is the one every SDK flavour runs
(``tests/sdk/steps.js``), once through a gateway with no default client version and once with
``default_client_api_version: 0`` (the README's advice for apps that still run the 2012
library), which must not touch preflights. A second page reads errors the gateway makes itself.
See docs/sdk-tests.md.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from playwright.async_api import Page, async_playwright

from tests.observability.tools import require_binary
from tests.sdk.harness import (
    APP_KEY,
    APP_SECRET,
    MASTER_SECRET,
    SDK_DIR,
    Service,
    ensure_installed,
    gateway,
    require_node_and_npm,
)
from tests.support.processes import free_port

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sdk-browser")]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"]
# Bounds, not expectations: the whole session takes seconds.
SCENARIO_BOUND_MS = 300_000
# What the page may load from its own origin: the pages, the driver, the shared steps, the SDK.
PAGE_FILES = {
    "/browser/scenario.html": SDK_DIR / "browser" / "scenario.html",
    "/browser/error.html": SDK_DIR / "browser" / "error.html",
    "/browser/driver.js": SDK_DIR / "browser" / "driver.js",
    "/steps.js": SDK_DIR / "steps.js",
    "/kinvey3-driver.js": SDK_DIR / "kinvey3-driver.js",
    "/browser/node_modules/kinvey-html5-sdk/kinvey-html5-sdk.min.js": SDK_DIR
    / "browser/node_modules/kinvey-html5-sdk/kinvey-html5-sdk.min.js",
}


@pytest.fixture(scope="module")
def html5_sdk() -> None:
    """``npm ci`` of tests/sdk/browser (kinvey-html5-sdk 3.12.5 from its lock file)."""
    _, npm = require_node_and_npm()  # installed when missing, else the test fails loudly
    ensure_installed("browser", npm)


@pytest.fixture(scope="module")
def gateway_default_0(v6_only_emulator: Service, logs: Path) -> Iterator[Service]:
    """Pinned to 6, requests without a version header taken as v0 (so preflights would be)."""
    with gateway(
        v6_only_emulator.url,
        6,
        logs,
        environ={"KINVEY_GATEWAY_DEFAULT_CLIENT_API_VERSION": "0"},
    ) as service:
        yield service


@pytest.fixture(scope="module")
def gateway_upstream_down(logs: Path) -> Iterator[Service]:
    with gateway(f"http://127.0.0.1:{free_port()}", 6, logs) as service:
        yield service


async def _serve_file(request: web.Request) -> web.StreamResponse:
    path = PAGE_FILES.get(request.path)
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "no-store"})


@pytest.fixture
async def page_origin(html5_sdk: None) -> AsyncIterator[str]:
    """The app's own origin: another 127.0.0.1 port than the gateway's."""
    app = web.Application()
    app.router.add_get("/{tail:.*}", _serve_file)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def _run_page(url: str, done: str, result: str) -> tuple[Any, list[str]]:
    """Open ``url`` in headless Chromium, wait (bounded) for ``done``, return ``result``."""
    chromium = require_binary("chromium", "chromium")
    problems: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page: Page = await browser.new_page()
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
            )
            await page.goto(url)
            await page.wait_for_function(done, timeout=SCENARIO_BOUND_MS)
            return await page.evaluate(result), problems
        finally:
            await browser.close()


def _access_log(service: Service) -> list[dict[str, Any]]:
    lines = service.log_tail(10_000_000).splitlines()
    parsed = [json.loads(line) for line in lines if line.startswith('{"time"')]
    return [line for line in parsed if line.get("log") == "access"]


def _inputs(base_url: str) -> str:
    return urlencode(
        {
            "baseUrl": base_url,
            "appKey": APP_KEY,
            "appSecret": APP_SECRET,
            "masterSecret": MASTER_SECRET,
        }
    )


@pytest.mark.parametrize("through", ["gateway_pinned_to_6", "gateway_default_0"])
async def test_the_html5_sdk_runs_the_app_session_cross_origin(
    request: pytest.FixtureRequest, page_origin: str, v6_only_emulator: Service, through: str
) -> None:
    service: Service = request.getfixturevalue(through)
    url = f"{page_origin}/browser/scenario.html?{_inputs(service.url)}"
    steps, problems = await _run_page(url, "() => window.kgwDone === true", "window.kgwSteps")
    failed = [step["step"] for step in steps if step["ok"] is not True]
    report = "\n".join(json.dumps(step) for step in steps)
    names = [step["step"] for step in steps]
    assert "file-download" in names and not failed, (
        f"failed steps {failed}\n{report}\n{problems}\n"
        f"{service.log_tail()}\n{v6_only_emulator.log_tail()}"
    )
    # The browser's own preflights reached the gateway and were answered by the upstream.
    preflights = [line for line in _access_log(service) if line["method"] == "OPTIONS"]
    assert preflights, service.log_tail()
    assert {line["status"] for line in preflights} == {204}
    assert {line["upstream_status"] for line in preflights} == {204}
    routes = {line["route"] for line in preflights}
    assert {"user.collection", "appdata.collection", "blob.collection"} <= routes, routes


async def test_a_browser_app_reads_the_gateways_own_errors(
    page_origin: str, gateway_pinned_to_6: Service, gateway_upstream_down: Service
) -> None:
    query = urlencode(
        {
            "refusing": gateway_pinned_to_6.url,
            "down": gateway_upstream_down.url,
            "appKey": APP_KEY,
            "appSecret": APP_SECRET,
        }
    )
    results, _ = await _run_page(
        f"{page_origin}/browser/error.html?{query}",
        "() => window.kgwErrors !== null",
        "window.kgwErrors",
    )
    refused = results["refusedVersion"]
    assert refused.get("status") == 400, results
    assert refused["echoed"] == "99" and refused["requestId"] is True
    assert refused["body"]["error"] == "APIVersionNotAvailable"
    down = results["upstreamDown"]
    assert "ProgressEvent" not in json.dumps(down), down
    assert down.get("status") == 502, down
    assert "retry" in json.dumps(down).lower(), down
