"""The built-in dashboard's "Safe to raise the pin?" panel in headless Chromium.

A gateway pinned at 5 with candidate 6 in front of the emulator; reads from several client
versions, and one deliberately broken change (test only) that makes v3 and v4 entity reads
differ. The panel must say "no differences" for the clients whose answers compare equal and
name the differing route for the others, agreeing with the gateway's own counters. The
screenshot goes to artifacts/shadow-panel.png; KGW_UPDATE_SCREENSHOTS=1 (or a missing file)
refreshes docs/img/shadow-panel.png, the README's picture.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import async_playwright

from gateway.changes import BUNDLE
from gateway.versioning.bundle import VersionBundle
from tests.conftest import APP_KEY, StartGateway
from tests.observability.test_obs_dashboard_browser import CHROMIUM_ARGS
from tests.observability.tools import REPO, require_binary
from tests.shadow.test_shadow_end_to_end import SHADOW, _BrokenTitle, _settled, _user
from tests.support.kinvey_client import KinveyClient

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("observability-browser")]

ARTIFACT = REPO / "artifacts" / "shadow-panel.png"
README_IMAGE = REPO / "docs" / "img" / "shadow-panel.png"


async def test_the_panel_says_which_client_versions_are_safe(
    start_emulator: Callable[..., Awaitable[str]], start_gateway: StartGateway
) -> None:
    chromium = require_binary("chromium", "chromium")
    emulator = await start_emulator(min_api_version=0, max_api_version=6)
    gateway = await start_gateway(emulator, pin=5, **SHADOW)
    gateway.runtime.gateway.bundle = VersionBundle([*BUNDLE.changes, _BrokenTitle])
    _, _, token = await _user(emulator)
    reads = 0
    for version in (2, 3, 4, 5, 6):
        client = KinveyClient(gateway.url, version, f"Kinvey {token}")
        created = await client.call("POST", f"/appdata/{APP_KEY}/panel", body={"title": "t"})
        for path in (f"/panel/{created.json['_id']}", "/panel/_count", "/panel"):
            assert (await client.call("GET", f"/appdata/{APP_KEY}{path}")).status == 200
            reads += 1
    await _settled(gateway, reads)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        page = await browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"{gateway.admin_url}/dashboard?refresh=0.5")
        await page.wait_for_function(
            "() => document.querySelectorAll('#shadow-table tbody tr[data-version]').length == 5",
            timeout=30_000,
        )
        assert await page.locator("#shadow-candidate").text_content() == "v6"

        async def verdict(version: int) -> str:
            row = page.locator(f"#shadow-table tbody tr[data-version='{version}']")
            return await row.locator("td").nth(6).inner_text()

        # The broken change runs for clients older than 6 whose pin moves to 6: v2..v5.
        for version in (2, 3, 4, 5):
            assert await verdict(version) == "differs: appdata.entity"
        assert await verdict(6) == "no differences"
        compared = page.locator("#shadow-table tbody tr[data-version='6'] td").nth(1)
        assert await compared.inner_text() == "3"
        ARTIFACT.parent.mkdir(exist_ok=True)
        await page.locator("#shadow").screenshot(path=str(ARTIFACT))
        await browser.close()
    assert errors == []
    if os.environ.get("KGW_UPDATE_SCREENSHOTS") == "1" or not README_IMAGE.exists():
        shutil.copyfile(ARTIFACT, README_IMAGE)
