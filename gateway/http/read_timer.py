"""The upstream's silence, timed lazily: one timer per ``read_timeout``, not one per packet.

Data only records the time (``last_read``); a timer that fires early re-arms itself for the
time left, and one that fires while nothing is owed (``waiting`` false) does nothing. So a
busy keep-alive connection creates about one timer per ``read_timeout``, where a timer
rescheduled on every packet (aiohttp's client) costs a heap operation each time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class ReadTimer:
    """Calls ``on_silence`` once the peer owed bytes and sent none for ``timeout`` seconds."""

    __slots__ = ("_handle", "_loop", "_on_silence", "_timeout", "last_read", "waiting")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timeout: float, on_silence: Callable[[], None]
    ) -> None:
        self._loop = loop
        self._timeout = timeout  # 0: no limit
        self._on_silence = on_silence
        self._handle: asyncio.TimerHandle | None = None
        self.waiting = False  # the peer owes us bytes: its silence counts
        self.last_read = 0.0

    def arm(self) -> None:
        """From now on the peer owes bytes."""
        self.waiting = True
        self.last_read = self._loop.time()
        if self._handle is None and self._timeout:
            self._handle = self._loop.call_at(self.last_read + self._timeout, self._fire)

    def stop(self) -> None:
        """Nothing is owed (a pending timer will find so and do nothing)."""
        self.waiting = False

    def cancel(self) -> None:
        """The connection is done: no timer left behind."""
        self.waiting = False
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        if not self.waiting:
            return
        deadline = self.last_read + self._timeout
        if self._loop.time() < deadline:
            self._handle = self._loop.call_at(deadline, self._fire)
            return
        self._on_silence()
