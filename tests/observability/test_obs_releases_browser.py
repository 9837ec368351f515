"""The "Releases still calling" panel in headless Chromium, with traffic from several releases.

A real gateway (report-only retirement of releases below 2.4 for the app) in front of the
emulator; clients of four releases, three SDK generations and several API versions call while
the page is open. The panel must list each release with its rate, API versions and SDK, first
and last seen, and the would-be refusals of the old one, agreeing with the gateway's counters.
The panel's screenshot goes to artifacts/releases.png; KGW_UPDATE_SCREENSHOTS=1 also refreshes
docs/img/releases.png (shown in README and docs/observability.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import async_playwright

from tests.conftest import APP_KEY, APP_SECRET, StartGateway
from tests.observability.test_obs_dashboard_browser import number, open_page
from tests.observability.tools import REPO, require_binary

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("observability-browser")]

ARTIFACT = REPO / "artifacts" / "releases.png"
DOCS_IMAGE = REPO / "docs" / "img" / "releases.png"
MAX_ROUNDS = 400  # bound on the background traffic
# (release header, device headers, API version): what apps of each generation send.
CLIENTS = [
    ("2.3.1", {"X-Kinvey-Device-Information": "js-nodejs/1.7.0 node v20.20.2 linux unknown"}, 3),
    ("2.4.0", {"X-Kinvey-Device-Information": "js-kinvey-node-sdk/3.12.5 node v20 linux"}, 4),
    ("3.0.0", {"X-Kinvey-Device-Info": json.dumps(
        {"hv": 1, "sdk": {"name": "kinvey-html5-sdk", "version": "4.2.5"}})}, 6),
    ("3.0.0", {"User-Agent": "android-kinvey-http/3.1.9"}, 5),
    (None, {}, 6),
]  # fmt: skip


async def traffic(base: str, stop: asyncio.Event) -> int:
    auth = aiohttp.encode_basic_auth(APP_KEY, APP_SECRET)
    sent = 0
    async with aiohttp.ClientSession() as session:
        for round_number in range(MAX_ROUNDS):
            if stop.is_set():
                break
            # the old release calls most, as it does before anyone retires it
            for release, device, version in [CLIENTS[0], *CLIENTS[round_number % 5 :][:2]]:
                headers = {"Authorization": auth, "X-Kinvey-API-Version": str(version), **device}
                if release is not None:
                    headers["X-Kinvey-Client-App-Version"] = release
                async with session.get(f"{base}/appdata/{APP_KEY}", headers=headers) as reply:
                    assert reply.status == 200, await reply.text()
                sent += 1
            await asyncio.sleep(0.05)
    return sent


async def test_releases_panel_shows_who_still_calls(
    start_gateway: StartGateway, start_emulator: object, tmp_path: Path
) -> None:
    chromium = require_binary("chromium", "chromium")
    config = tmp_path / "gateway.yaml"
    config.write_text(
        json.dumps({"apps": {APP_KEY: {"min_client_app_version": "2.4", "report_only": True}}})
    )
    emulator_url = await start_emulator()  # type: ignore[operator]
    gateway = await start_gateway(emulator_url, pin=6, config_file=str(config))
    stop = asyncio.Event()
    load = asyncio.create_task(traffic(gateway.url, stop))
    errors: list[str] = []
    try:
        async with async_playwright() as playwright:
            browser, page = await open_page(playwright, chromium, errors)
            await page.goto(f"{gateway.admin_url}/dashboard?refresh=0.5")
            await page.wait_for_function(
                "() => document.querySelectorAll('#releases tbody tr[data-release]').length >= 4"
                " && snapshots.length >= 8",
                timeout=30_000,
            )

            async def columns(release: str) -> list[str]:
                row = page.locator(f"#releases tbody tr[data-release='{release}'] td")
                return [text.strip() for text in await row.all_inner_texts()]

            old = await columns("2.3.1")
            assert number(old[1]) > 0 and number(old[2]) > 0  # req/s and share
            assert old[3] == "v3" and old[4] == "node/1.7.0"
            clock = re.compile(r"\d\d:\d\d:\d\d")
            assert clock.fullmatch(old[5]) and clock.fullmatch(old[6])  # first and last seen
            assert old[7].startswith("would refuse ")
            current = await columns("3.0.0")
            assert set(current[3].split()) == {"v5", "v6"}
            assert set(current[4].split(", ")) == {"html5/4.2.5", "android/3.1.9"}
            assert current[7] == ""
            assert (await columns("2.4.0"))[4] == "node/3.12.5"
            assert (await columns("none"))[4] == "unknown"
            # the busiest release is listed first
            first = page.locator("#releases tbody tr").first
            assert await first.get_attribute("data-release") == "2.3.1"
            ARTIFACT.parent.mkdir(exist_ok=True)
            await page.locator("#releases-panel").screenshot(path=str(ARTIFACT))

            stop.set()
            await load
            would = gateway.registry.get_sample_value(
                "kgw_client_release_refusals_total",
                {"app_release": "2.3.1", "mode": "report_only"},
            )
            assert would and would > 0
            await page.wait_for_function(
                "() => document.querySelector(\"#releases tr[data-release='2.3.1'] td:last-child\")"
                f".textContent === 'would refuse {int(would):,}'",
                timeout=30_000,
            )
            heading = await page.locator("#releases-panel h2").text_content()
            assert heading == "Releases still calling"
            await browser.close()
    finally:
        stop.set()
        await asyncio.wait_for(load, 30)
    assert errors == []
    assert ARTIFACT.stat().st_size > 5_000
    if os.environ.get("KGW_UPDATE_SCREENSHOTS") == "1" or not DOCS_IMAGE.exists():
        DOCS_IMAGE.parent.mkdir(exist_ok=True)
        shutil.copyfile(ARTIFACT, DOCS_IMAGE)
