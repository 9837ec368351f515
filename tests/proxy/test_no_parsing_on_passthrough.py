"""A request no change matches is streamed: no body buffering and no JSON parsing.

Counted, not timed: the JSON decoder and both body-buffering paths are wrapped with counters.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

import gateway.handler.translated as translated
import gateway.handler.upstream_call as upstream_call
import gateway.versioning.model as model
from tests.conftest import APP_KEY, APP_SECRET, StartGateway


class Counters:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parses = self.request_buffers = self.response_buffers = 0
        decode, read_request, read_upstream = (
            model.decode_json,
            translated._read_bounded,
            upstream_call._read_upstream,
        )

        def counting_decode(*args: Any) -> Any:
            self.parses += 1
            return decode(*args)

        async def counting_request(*args: Any) -> bytes:
            self.request_buffers += 1
            return await read_request(*args)

        async def counting_upstream(*args: Any) -> bytes:
            self.response_buffers += 1
            return await read_upstream(*args)

        monkeypatch.setattr(model, "decode_json", counting_decode)
        monkeypatch.setattr(translated, "_read_bounded", counting_request)
        monkeypatch.setattr(upstream_call, "_read_upstream", counting_upstream)

    @property
    def total(self) -> int:
        return self.parses + self.request_buffers + self.response_buffers


async def test_untranslated_requests_are_never_parsed_or_buffered(
    start_emulator: Any, start_gateway: StartGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream = await start_emulator(min_api_version=6, max_api_version=6)
    gateway = await start_gateway(upstream, pin=6)
    counters = Counters(monkeypatch)
    headers = {
        "X-Kinvey-API-Version": "6",
        "Authorization": aiohttp.encode_basic_auth(APP_KEY, APP_SECRET),
    }
    async with aiohttp.ClientSession(headers=headers) as client:
        async with client.post(
            f"{gateway.url}/appdata/{APP_KEY}/books", json={"_id": "b1", "title": "Dune"}
        ) as response:
            assert response.status == 201
        async with client.get(f"{gateway.url}/appdata/{APP_KEY}/books/b1") as response:
            assert (await response.json())["title"] == "Dune"
        async with client.get(f"{gateway.url}/appdata/{APP_KEY}/books/_count") as response:
            assert (await response.json())["count"] == 1
        assert counters.total == 0
        # Positive control: a v1 client's delete is translated (200 {"count"} -> 204),
        # so the same counters do move.
        async with client.delete(
            f"{gateway.url}/appdata/{APP_KEY}/books/b1", headers={"X-Kinvey-API-Version": "1"}
        ) as response:
            assert response.status == 204
        assert counters.response_buffers >= 1 and counters.parses >= 1
