"""The built-in /dashboard in headless Chromium, on a real gateway in front of the emulator.

Traffic from every client API version runs while the page is open; the page must show
non-zero rates and totals that agree with the gateway's own counters, make no request outside
the admin listener, and raise no script error. The screenshot goes to artifacts/dashboard.png;
set KGW_UPDATE_SCREENSHOTS=1 to also refresh docs/img/dashboard.png (the README's picture).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from urllib.parse import urlsplit

import aiohttp
import pytest
from playwright.async_api import Browser, Page, Playwright, async_playwright

from tests.conftest import APP_KEY, APP_SECRET, MASTER_SECRET, StartGateway
from tests.observability.tools import REPO, require_binary

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("observability-browser")]

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
ARTIFACT = REPO / "artifacts" / "dashboard.png"
README_IMAGE = REPO / "docs" / "img" / "dashboard.png"
MAX_REQUESTS = 3000  # bound on the background traffic


async def traffic(base: str, stop: asyncio.Event) -> int:
    """A steady mix of client versions (most on old ones, as during a migration)."""
    master = {"Authorization": aiohttp.encode_basic_auth(APP_KEY, MASTER_SECRET)}
    app = {"Authorization": aiohttp.encode_basic_auth(APP_KEY, APP_SECRET)}
    things = f"{base}/appdata/{APP_KEY}/dashboard_things"
    mix = ["0", "1", "1", "2", "3", "3", "3", "4", "5", "6", "6"]
    sent = 0
    async with aiohttp.ClientSession() as session:
        while not stop.is_set() and sent < MAX_REQUESTS:
            for version in mix:
                headers = {**master, "X-Kinvey-API-Version": version}
                async with session.post(things, json={"n": sent}, headers=headers) as created:
                    entity = await created.json()
                async with session.get(f"{things}/_count", headers=headers) as counted:
                    await counted.read()
                async with session.delete(f"{things}/{entity['_id']}", headers=headers) as gone:
                    await gone.read()
                sent += 3
            bad = {**app, "X-Kinvey-API-Version": "99"}
            async with session.get(f"{base}/appdata/{APP_KEY}", headers=bad) as refused:
                await refused.read()
            sent += 1
            await asyncio.sleep(0.05)
    return sent


def number(text: str) -> float:
    match = re.search(r"-?[\d,]+(?:\.\d+)?", text)
    assert match, text
    return float(match.group(0).replace(",", ""))


async def open_page(
    playwright: Playwright, chromium: str, errors: list[str]
) -> tuple[Browser, Page]:
    """Headless Chromium with one page whose script errors and console errors go to ``errors``."""
    browser = await playwright.chromium.launch(
        executable_path=chromium, headless=True, args=CHROMIUM_ARGS
    )
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return browser, page


async def cell(page: Page, selector: str) -> str:
    return (await page.locator(selector).inner_text()).strip()


async def test_dashboard_shows_live_traffic(
    start_gateway: StartGateway, start_emulator: object
) -> None:
    chromium = require_binary("chromium", "chromium")
    emulator_url = await start_emulator()  # type: ignore[operator]
    gateway = await start_gateway(emulator_url, pin=6)
    stop = asyncio.Event()
    load = asyncio.create_task(traffic(gateway.url, stop))
    admin_origin = urlsplit(gateway.admin_url).netloc
    requested_hosts: set[str] = set()
    errors: list[str] = []
    try:
        async with async_playwright() as playwright:
            browser, page = await open_page(playwright, chromium, errors)
            page.on("request", lambda request: requested_hosts.add(urlsplit(request.url).netloc))
            await page.goto(f"{gateway.admin_url}/dashboard?refresh=0.5")

            # Rates need two snapshots with traffic in between: wait (bounded) for them.
            await page.wait_for_function(
                "() => parseFloat(document.getElementById('rps').textContent) > 0",
                timeout=30_000,
            )
            await page.wait_for_function(
                "() => document.querySelectorAll('#translations tbody tr[data-change]').length > 0",
                timeout=30_000,
            )
            # A few seconds of history, so the chart (and the README's picture) has lines.
            await page.wait_for_function("() => snapshots.length >= 10", timeout=30_000)
            assert await cell(page, "#pin") == "API v6"
            assert await cell(page, "#tls-verify") == "on"
            assert number(await cell(page, "#total")) > 0
            for latency in ("#p50", "#p95", "#p99"):
                assert re.fullmatch(r"[\d.]+ (ms|s)", await cell(page, latency)), latency
            for version in ("0", "1", "3", "6", "invalid"):
                row = page.locator(f"#versions tbody tr[data-version='{version}']")
                assert number(await row.locator("td").nth(3).inner_text()) > 0, version
            v0_mode = page.locator("#versions tbody tr[data-version='0'] td.mode")
            assert await v0_mode.inner_text() == "translated"
            v6_mode = page.locator("#versions tbody tr[data-version='6'] td.mode")
            assert await v6_mode.inner_text() == "pass-through"
            errors_table = await cell(page, "#errors")
            assert "gateway: version_not_available" in errors_table
            ARTIFACT.parent.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACT), full_page=True)  # while traffic runs

            stop.set()
            sent = await load
            # After the traffic stops, the page's total converges on the gateway's own count.
            await page.wait_for_function(
                f"() => document.getElementById('total').textContent.replace(/,/g, '') == {sent}",
                timeout=30_000,
            )
            counted = sum(
                sample.value
                for family in gateway.registry.collect()
                for sample in family.samples
                if sample.name == "kgw_http_requests_total"
            )
            assert counted == sent

            await browser.close()
    finally:
        stop.set()
        await asyncio.wait_for(load, 30)
    assert ARTIFACT.stat().st_size > 10_000
    assert errors == []
    assert requested_hosts == {admin_origin}, requested_hosts
    if os.environ.get("KGW_UPDATE_SCREENSHOTS") == "1" or not README_IMAGE.exists():
        README_IMAGE.parent.mkdir(exist_ok=True)
        shutil.copyfile(ARTIFACT, README_IMAGE)
