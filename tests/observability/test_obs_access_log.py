"""Access log: one JSON line per request, written off the event loop, never secrets."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.observability.access_log import AccessLogger, configure_logging
from gateway.observability.access_record import AccessRecord, format_record, record_fields

REPO = Path(__file__).resolve().parents[2]
FIELDS = [
    "time", "log", "request_id", "method", "route", "path", "client_api_version",
    "upstream_api_version", "changes", "status", "upstream_status", "duration_seconds",
    "upstream_duration_seconds", "request_bytes", "response_bytes", "remote", "outcome",
    "app_release", "sdk", "sdk_version", "release_retired",
]  # fmt: skip


def record(**overrides: object) -> AccessRecord:
    values: dict[str, object] = {
        "time": 1795861188.0921, "request_id": "req-1", "method": "DELETE",
        "route": "appdata.entity", "path": "/appdata/kid_x/things/42", "client_api_version": 1,
        "upstream_api_version": 6, "changes": ["v2_delete_returns_count"], "status": 204,
        "upstream_status": 200, "duration_seconds": 0.0123456789,
        "upstream_duration_seconds": 0.01, "request_bytes": 0, "response_bytes": 0,
        "remote": "10.0.0.7", "outcome": "ok", "app_release": "2.3.1", "sdk": "html5",
        "sdk_version": "4.2.5", "release_retired": None,
    }  # fmt: skip
    values.update(overrides)
    return AccessRecord(**values)  # type: ignore[arg-type]


def test_json_line_has_every_field_in_order() -> None:
    line = format_record(record(), "json")
    assert "\n" not in line
    entry = json.loads(line)
    assert list(entry) == FIELDS
    assert entry["time"] == "2026-11-28T10:19:48.092Z"
    assert entry["log"] == "access"
    assert entry["changes"] == ["v2_delete_returns_count"]
    assert entry["duration_seconds"] == 0.012346
    assert entry["client_api_version"] == 1 and entry["upstream_status"] == 200


texts = st.text(max_size=40)
maybe_int = st.none() | st.integers(min_value=-(2**40), max_value=2**40)
seconds = st.floats(min_value=0, max_value=1e6)


@given(
    request_id=texts, method=texts, route=texts, path=texts, remote=texts, outcome=texts,
    changes=st.lists(texts, max_size=4), client_api_version=maybe_int,
    upstream_status=maybe_int, status=st.integers(0, 999), duration=seconds,
    upstream_duration=st.none() | seconds, when=st.floats(min_value=0, max_value=4e9),
    release=texts, sdk=texts, retired=st.none() | texts,
)  # fmt: skip
def test_the_hand_built_json_line_equals_json_dumps_of_the_fields(
    request_id: str, method: str, route: str, path: str, remote: str, outcome: str,
    changes: list[str], client_api_version: int | None, upstream_status: int | None,
    status: int, duration: float, upstream_duration: float | None, when: float,
    release: str, sdk: str, retired: str | None,
) -> None:  # fmt: skip
    entry = record(
        request_id=request_id, method=method, route=route, path=path, remote=remote,
        outcome=outcome, changes=changes, client_api_version=client_api_version,
        upstream_status=upstream_status, status=status, duration_seconds=duration,
        upstream_duration_seconds=upstream_duration, time=when, app_release=release, sdk=sdk,
        sdk_version=sdk, release_retired=retired,
    )  # fmt: skip
    line = format_record(entry, "json")
    assert line == json.dumps(record_fields(entry), separators=(",", ":"))
    assert json.loads(line)["path"] == record_fields(entry)["path"]


def test_query_strings_and_signed_gateway_urls_never_reach_the_log() -> None:
    leaky = record(path="/user/kid_x/_me?password=hunter2&token=abc")
    assert json.loads(format_record(leaky, "json"))["path"] == "/user/kid_x/_me"
    signed = record(
        path="/_gateway/files/photo.jpg/upload/1795861188/c2lnbmF0dXJl", route="gateway.file"
    )
    logged = json.loads(format_record(signed, "json"))["path"]
    assert logged == "/_gateway/files/[redacted]"
    long_path = record(path="/appdata/kid_x/" + "a" * 5000)
    assert len(json.loads(format_record(long_path, "json"))["path"]) < 600


def test_unknown_paths_keep_only_their_first_segment() -> None:
    storage = record(route="other", path="/_storage/gdtylW1TKMc_6tvDtBvNsvQ")
    assert json.loads(format_record(storage, "json"))["path"] == "/_storage/[redacted]"
    assert record_fields(record(route="other", path="/favicon.ico"))["path"] == "/favicon.ico"
    known = record(route="appdata.entity", path="/appdata/kid_x/books/b1")
    assert record_fields(known)["path"] == "/appdata/kid_x/books/b1"


@pytest.mark.parametrize(
    ("page", "table_after"),
    [
        ("README.md", "The fields, in the order of the line:"),
        ("docs/observability.md", "## Access log"),
    ],
)
def test_the_documented_field_table_is_the_line(page: str, table_after: str) -> None:
    text = (REPO / page).read_text().split(table_after, 1)[1]
    rows = text.split("| field | meaning |", 1)[1].splitlines()[2:]
    table = rows[: next(i for i, row in enumerate(rows) if not row.startswith("|"))]
    documented = [name for row in table for name in re.findall(r"`([a-z_]+)`", row.split("|")[1])]
    assert documented == FIELDS


def test_text_format_is_key_value_and_quotes_what_needs_it() -> None:
    line = format_record(record(remote="::1", path='/appdata/kid_x/a b"c', changes=[]), "text")
    assert line.startswith("time=2026-11-28T10:19:48.092Z log=access request_id=req-1 ")
    assert 'path="/appdata/kid_x/a b\\"c"' in line
    assert " changes=- " in line and " upstream_status=200 " in line and " remote=::1 " in line
    missing = format_record(record(client_api_version=None, upstream_status=None), "text")
    assert " client_api_version=- " in missing and " upstream_status=- " in missing


def test_logger_writes_lines_from_its_own_thread_without_a_flush_call() -> None:
    stream = io.StringIO()
    logger = AccessLogger(enabled=True, stream=stream, flush_interval=0.01)
    try:
        for i in range(3):
            logger.log(record(request_id=f"req-{i}"))
        for _ in range(500):  # bounded wait for the writer thread
            if stream.getvalue().count("\n") == 3:
                break
            time.sleep(0.01)
        ids = [json.loads(line)["request_id"] for line in stream.getvalue().splitlines()]
        assert ids == ["req-0", "req-1", "req-2"]
    finally:
        logger.close()


class BlockingStream(io.StringIO):
    """A stdout whose reader has stalled: write() waits until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        assert self.release.wait(10)
        return super().write(text)


def test_log_returns_while_the_output_is_blocked_and_drops_beyond_the_backlog() -> None:
    stream = BlockingStream()
    logger = AccessLogger(enabled=True, stream=stream, flush_interval=0.01, max_backlog=5)
    try:
        logger.log(record(request_id="first"))
        assert stream.entered.wait(10)  # the writer thread is now stuck in write()
        for i in range(8):  # must not block: the caller is the event loop
            logger.log(record(request_id=f"later-{i}"))
        assert logger.dropped == 3
    finally:
        stream.release.set()
        logger.close()
    ids = [json.loads(line)["request_id"] for line in stream.getvalue().splitlines()]
    assert ids == ["first"] + [f"later-{i}" for i in range(5)]


def test_disabled_logger_starts_no_thread_and_writes_nothing() -> None:
    threads_before = threading.active_count()
    stream = io.StringIO()
    logger = AccessLogger(enabled=False, stream=stream)
    logger.log(record())
    logger.close()
    assert stream.getvalue() == "" and threading.active_count() == threads_before
    assert logger.enabled is False


def test_close_flushes_everything_and_is_idempotent() -> None:
    stream = io.StringIO()
    logger = AccessLogger(enabled=True, stream=stream, flush_interval=60)
    logger.log(record())
    logger.close()
    logger.close()
    assert len(stream.getvalue().splitlines()) == 1
    logger.log(record())  # after close: buffered, flushed by an explicit flush
    logger.flush()
    assert len(stream.getvalue().splitlines()) == 2


@pytest.fixture
def restore_root_logger() -> object:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_configure_logging_json_and_text_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    configure_logging("warning", "json")  # replaces, does not stack handlers
    log = logging.getLogger("gateway.test")
    log.info("hidden at warning")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("upstream said %s", "no")
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "error" and entry["logger"] == "gateway.test"
    assert entry["message"] == "upstream said no" and "ValueError: boom" in entry["exception"]
    assert entry["time"].endswith("Z")

    configure_logging("debug", "text")
    log.debug("plain %d", 5)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "DEBUG gateway.test: plain 5" in err
