"""Shadow comparison: re-ask a sample of safe reads at a candidate pin, in the background.

The client's answer is produced exactly as without shadow; only afterwards, and only when a
slot, the upstream budget and the gateway's load allow, the same request is sent again (with
the client's own credentials) through the same changes at the candidate pin, and once more at
the current pin to learn noise. A shadow call never delays, changes or fails a client request:
whatever goes wrong is counted as ``error``, whatever cannot run now as ``skipped``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDict

from gateway.kinvey.codings import UnsupportedCoding, check_decodable
from gateway.kinvey.json_body import BodyDecodeError, decode_json
from gateway.kinvey.reads import is_read
from gateway.kinvey.routes import RouteMatch
from gateway.shadow.compare import Answer, Json, differences, normalize
from gateway.shadow.record import Sample, ShadowRecorder

log = logging.getLogger("gateway.shadow")


class ShadowFetchFailed(Exception):
    """A shadow call got no answer from the upstream (the gateway would have made one up)."""


@dataclass(frozen=True, slots=True)
class ShadowConfig:
    candidate_pin: int
    sample_ratio: float
    max_concurrency: int
    routes: frozenset[str]
    max_body_bytes: int
    calls_per_second: float
    timeout_seconds: float
    upstream_url: str | None = None
    app_upstream_urls: Mapping[str, str] | None = None

    def candidate_base(self, app_key: str | None, current_base: str) -> str:
        per_app = (self.app_upstream_urls or {}).get(app_key or "")
        return per_app or self.upstream_url or current_base


@dataclass(frozen=True, slots=True)
class Replay:
    """A sampled request as the client sent it, and what it was answered with."""

    method: str
    raw_path: str
    route: RouteMatch
    headers: CIMultiDict[str]
    body: bytes | None
    client_version: int
    current_pin: int
    current_base: str
    origin: web.BaseRequest  # the client's request: its peer, scheme and Host, for forwarding


@dataclass(frozen=True, slots=True)
class Captured:
    status: int
    headers: Mapping[str, str]
    body: bytes


Fetch = Callable[[Replay, int, str], Awaitable[Captured]]


class ShadowRunner:
    def __init__(
        self,
        config: ShadowConfig,
        recorder: ShadowRecorder,
        fetch: Fetch,
        overloaded: Callable[[], bool],
        chance: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.recorder = recorder
        self._fetch = fetch
        self._overloaded = overloaded
        self._chance = chance
        self._tasks: set[asyncio.Task[None]] = set()
        self._tokens = config.calls_per_second
        self._refilled = time.monotonic()

    def samples(self, method: str, route: str, client_version: int) -> bool:
        """Whether to shadow this request: sampled, and a slot and the upstream budget free
        now, so that nothing is copied for a sample that could not run (``skipped`` is counted
        then). Cheap: called on every request while shadow comparison is on."""
        if route not in self.config.routes or not is_read(method, route):
            return False
        if self._chance() >= self.config.sample_ratio:
            return False
        if self._full() or not self._take_budget(2):
            self.recorder.counted(route, client_version, "skipped")
            return False
        return True

    def submit(self, replay: Replay, primary: Captured) -> None:
        """Compare in the background (or skip: the slots may have filled while it was answered)."""
        if self._full():
            self.recorder.counted(replay.route.name, replay.client_version, "skipped")
            return
        task = asyncio.get_running_loop().create_task(self._compare(replay, primary))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def skipped(self, route: str, client_version: int) -> None:
        """A sample that cannot be compared after all (its answer was too large)."""
        self.recorder.counted(route, client_version, "skipped")

    def _full(self) -> bool:
        return len(self._tasks) >= self.config.max_concurrency or self._overloaded()

    def _take_budget(self, calls: int) -> bool:
        now = time.monotonic()
        rate = self.config.calls_per_second
        self._tokens = min(rate, self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        if self._tokens < calls:
            return False
        self._tokens -= calls
        return True

    async def _compare(self, replay: Replay, primary: Captured) -> None:
        route, version = replay.route.name, replay.client_version
        if not _decodable(primary.headers.get("Content-Encoding")):
            self.recorder.counted(route, version, "skipped")  # a coding the gateway cannot undo
            return
        candidate_base = self.config.candidate_base(replay.route.app_key, replay.current_base)
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                candidate = await self._fetch(replay, self.config.candidate_pin, candidate_base)
                secondary = await self._fetch(replay, replay.current_pin, replay.current_base)
        except (ShadowFetchFailed, TimeoutError, OSError) as exc:
            log.info("shadow call for %s failed: %s", route, exc)
            self.recorder.counted(route, version, "error")
            return
        except Exception:
            log.exception("shadow comparison for %s failed", route)
            self.recorder.counted(route, version, "error")
            return
        old, new, again = _answer(primary), _answer(candidate), _answer(secondary)
        ordered = "sort=" in replay.raw_path.partition("?")[2]
        self.recorder.learn_noise(route, differences(old, again, ordered=ordered))
        found = differences(old, new, ordered=ordered)
        real = found - self.recorder.noisy(route)
        result = "differs" if real else "noise" if found else "same"
        self.recorder.counted(route, version, result)
        if real:
            sample = Sample(
                time.time(),
                route,
                replay.method,
                version,
                replay.current_pin,
                self.config.candidate_pin,
                tuple(sorted(real)),
            )
            self.recorder.differed(sample, old.body, new.body)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _decodable(content_encoding: str | None) -> bool:
    try:
        check_decodable(content_encoding)
    except UnsupportedCoding:
        return False
    return True


def _answer(captured: Captured) -> Answer:
    headers = {name.lower(): value for name, value in captured.headers.items()}
    body: Json | bytes = captured.body
    if "json" in headers.get("content-type", "") and captured.body:
        try:
            body = decode_json(captured.body, headers.get("content-encoding"))
        except BodyDecodeError:
            body = captured.body
    return normalize(captured.status, headers, body)
