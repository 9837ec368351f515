"""What one access log line holds and how it is written (JSON or ``key=value`` text).

What is logged is fixed by :class:`AccessRecord`: no headers, no bodies, no query strings
(the path is cut at ``?`` again here, in case a caller passes a raw path), and the path of the
gateway's own signed URLs is cut after its kind. Credentials therefore cannot reach the log.
``json_line`` runs for every request, so it is built from a %-template, not ``json.dumps``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Final

MAX_PATH_CHARS: Final = 512
_SIGNED_PREFIX: Final = "/_gateway/"
_UNKNOWN_ROUTE: Final = "other"


@dataclass(slots=True)
class AccessRecord:
    """One finished request. The logger keeps a reference: do not mutate it after ``log``."""

    time: float  # epoch seconds when the response finished
    request_id: str
    method: str
    route: str
    path: str  # without query string
    client_api_version: int | None
    upstream_api_version: int
    changes: list[str] = field(default_factory=list)
    status: int = 0
    upstream_status: int | None = None
    duration_seconds: float = 0.0
    upstream_duration_seconds: float | None = None
    request_bytes: int = 0
    response_bytes: int = 0
    remote: str = ""
    outcome: str = "ok"
    app_release: str = "none"  # X-Kinvey-Client-App-Version, normalized (client_identity)
    sdk: str = "unknown"  # SDK family
    sdk_version: str = ""
    release_retired: str | None = None  # "refused" / "report_only" (release_policy)


def safe_path(path: str, route: str = "") -> str:
    """The path as logged: no query string, signed gateway URLs cut, bounded length.

    A path the route table does not know (route ``other``) keeps only its first segment: such
    a path may be a capability, e.g. a storage URL whose ``Location`` the gateway rewrote to
    itself (the emulator's ``/_storage/<token>``), and the log must not hand it out.
    """
    if "?" in path:
        path = path[: path.index("?")]
    if path.startswith(_SIGNED_PREFIX):
        kind = path[len(_SIGNED_PREFIX) :].split("/", 1)[0]
        return f"{_SIGNED_PREFIX}{kind}/[redacted]"
    if route == _UNKNOWN_ROUTE:
        first, more, _ = path[1:].partition("/")
        path = f"/{first}/[redacted]" if more else path
    return path if len(path) <= MAX_PATH_CHARS else path[:MAX_PATH_CHARS] + "..."


def record_fields(record: AccessRecord) -> dict[str, object]:
    """The logged fields, in a stable order; ``time`` as RFC 3339 UTC with milliseconds."""
    stamp = utc_stamp(record.time)
    return {
        "time": stamp,
        "log": "access",
        "request_id": record.request_id,
        "method": record.method,
        "route": record.route,
        "path": safe_path(record.path, record.route),
        "client_api_version": record.client_api_version,
        "upstream_api_version": record.upstream_api_version,
        "changes": list(record.changes),
        "status": record.status,
        "upstream_status": record.upstream_status,
        "duration_seconds": _seconds(record.duration_seconds),
        "upstream_duration_seconds": _seconds(record.upstream_duration_seconds),
        "request_bytes": record.request_bytes,
        "response_bytes": record.response_bytes,
        "remote": record.remote,
        "outcome": record.outcome,
        "app_release": record.app_release,
        "sdk": record.sdk,
        "sdk_version": record.sdk_version,
        "release_retired": record.release_retired,
    }


_last_second: list[tuple[int, str]] = [(-1, "")]  # strftime is slow; lines share seconds
_MILLIS: Final = tuple(f".{ms:03d}Z" for ms in range(1000))


def utc_stamp(epoch: float) -> str:
    millis = int(epoch * 1000)
    seconds = millis // 1000
    cached_second, prefix = _last_second[0]
    if seconds != cached_second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _last_second[0] = (seconds, prefix)
    return prefix + _MILLIS[millis - seconds * 1000]


def _seconds(value: float | None) -> float | None:
    """Durations to the microsecond; a non-finite one (never expected) as null, valid JSON."""
    return round(value, 6) if value is not None and math.isfinite(value) else None


def _json_seconds(value: float | None) -> str:
    """``json.dumps(_seconds(value))``, i.e. ``repr(round(value, 6))``, at a third of the cost.

    Both roundings start from the same correctly rounded six-decimal string; below 1e9 it has
    at most 15 significant digits, so it is the shortest string naming its float, which is
    what ``repr`` prints (in fixed notation from 1e-4 on). Other values take the slow way.
    """
    if value is not None and 1e-4 <= value < 1e9:
        text = ("%.6f" % value).rstrip("0")  # noqa: UP031 - %-formatting is the faster here
        return text + "0" if text.endswith(".") else text
    if value is None or not math.isfinite(value):
        return "null"
    return repr(round(value, 6))


_JSON_LINE: Final = (
    '{"time":"%s","log":"access","request_id":%s,"method":%s,"route":%s,"path":%s,'
    '"client_api_version":%s,"upstream_api_version":%d,"changes":[%s],"status":%d,'
    '"upstream_status":%s,"duration_seconds":%s,"upstream_duration_seconds":%s,'
    '"request_bytes":%d,"response_bytes":%d,"remote":%s,"outcome":%s,"app_release":%s,'
    '"sdk":%s,"sdk_version":%s,"release_retired":%s}'
)


def json_line(record: AccessRecord) -> str:
    """``record_fields(record)`` as compact JSON, built directly: this runs for every request,
    and ``json.dumps`` of a fresh dict costs several times more. Strings go through the C
    JSON string encoder, so escaping is exactly json's (a property test checks equality);
    the integer fields must be ints (``%d``, or ``%s`` for the optional ones: cheaper than a
    ``format`` call, and an int prints the same either way)."""
    q = encode_basestring_ascii
    client, upstream, changes = record.client_api_version, record.upstream_status, record.changes
    retired = record.release_retired
    return _JSON_LINE % (
        utc_stamp(record.time),
        q(record.request_id),
        q(record.method),
        q(record.route),
        q(safe_path(record.path, record.route)),
        "null" if client is None else client,
        record.upstream_api_version,
        ",".join(map(q, changes)) if changes else "",
        record.status,
        "null" if upstream is None else upstream,
        _json_seconds(record.duration_seconds),
        _json_seconds(record.upstream_duration_seconds),
        record.request_bytes,
        record.response_bytes,
        q(record.remote),
        q(record.outcome),
        q(record.app_release),
        q(record.sdk),
        q(record.sdk_version),
        "null" if retired is None else q(retired),
    )


def format_record(record: AccessRecord, fmt: str) -> str:
    """One line: JSON (``fmt == "json"``) or logfmt-style ``key=value`` pairs (``"text"``)."""
    if fmt == "json":
        return json_line(record)
    fields = record_fields(record)
    return " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())


def _text_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(value) or "-"
    if isinstance(value, str):
        # Quote anything a log parser could split on; json.dumps also escapes control bytes.
        simple = value and all(c.isalnum() or c in "-_./:[]" for c in value)
        return value if simple else json.dumps(value)
    return str(value)
