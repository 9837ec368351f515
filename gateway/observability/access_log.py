"""The access log (one line per request on stdout) and the application log setup (stderr).

``AccessLogger.log`` runs on the event loop for every request: it formats the line (a few
µs) and appends it to a deque (thread-safe, no lock taken by the caller); a writer thread
wakes a few times a second and writes the waiting lines in one call. Formatting happens on
the loop, spread over the requests, because a writer thread formatting a batch of thousands
holds the GIL for milliseconds at a time and stalls the loop (the p99). A slow stdout reader
(a busy log shipper) stalls only the writer thread, never the event loop; when the backlog
passes ``max_backlog`` lines, new ones are counted in ``dropped`` instead of growing memory.

What a line holds, and that no credential can reach it: :mod:`access_record`.
"""

from __future__ import annotations

import atexit
import json
import logging
import sys
import threading
from collections import deque
from functools import partial
from typing import Final, TextIO

from gateway.observability.access_record import AccessRecord, format_record, json_line, utc_stamp


class AccessLogger:
    """Buffered, non-blocking access log writer (see the module docstring)."""

    def __init__(
        self,
        *,
        enabled: bool,
        fmt: str = "json",
        stream: TextIO | None = None,
        flush_interval: float = 0.2,
        max_backlog: int = 100_000,
    ) -> None:
        self.enabled = enabled
        self.dropped = 0
        self._stream = stream if stream is not None else sys.stdout
        self._flush_interval = flush_interval
        self._max_backlog = max_backlog
        self._format = json_line if fmt == "json" else partial(format_record, fmt=fmt)
        self._pending: deque[str] = deque()
        self._write_lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        if enabled:
            self._thread = threading.Thread(target=self._run, name="kgw-access-log", daemon=True)
            self._thread.start()
            atexit.register(self.close)

    def log(self, record: AccessRecord) -> None:
        if not self.enabled:
            return
        if len(self._pending) >= self._max_backlog:
            self.dropped += 1
            return
        self._pending.append(self._format(record))

    def flush(self) -> None:
        """Write everything logged so far (blocks; for shutdown and tests)."""
        with self._write_lock:
            pending = self._pending
            lines = [pending.popleft() for _ in range(len(pending))]
            if lines:
                try:
                    self._stream.write("\n".join(lines) + "\n")
                    self._stream.flush()
                except (OSError, ValueError):  # closed or broken stdout: nothing to do
                    pass

    def close(self) -> None:
        """Stop the writer thread after a final flush; safe to call more than once."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            atexit.unregister(self.close)
        self.flush()

    def _run(self) -> None:
        while not self._closed.wait(self._flush_interval):
            self.flush()


class JsonLogFormatter(logging.Formatter):
    """Application log records as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": utc_stamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, separators=(",", ":"))


_HANDLER_MARK: Final = "_kgw_handler"


def configure_logging(level: str, fmt: str) -> None:
    """Route application logs to stderr as JSON lines or text; calling again replaces it."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    if fmt == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
