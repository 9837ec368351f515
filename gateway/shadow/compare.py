"""Compare two answers as a client reads them: status, the headers it reads, JSON field by field.

Pure: no I/O. An answer is first normalized (Kinvey's known volatile values are blanked, so a
timestamp or a freshly signed URL is never reported), then two answers are walked together and
every place they differ is named by a *field path*: ``status``, ``header:location``, ``$`` for
the body root, ``$._kmd.ect``, ``$[]._acl.gr``. Array positions fold into ``[]`` and object keys
that look like ids into ``<id>``, so the paths are a bounded vocabulary whatever the data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final

# The headers an app reads from a Kinvey answer (framing, codings, dates and ids are not among
# them: its HTTP library undoes the coding, and bodies are compared decoded).
CLIENT_HEADERS: Final = ("content-type", "location", "x-kinvey-api-version")
# Values that differ on every call by design: compared by presence only.
VOLATILE_KEYS: Final = frozenset(
    {"_downloadURL", "_uploadURL", "_expiresAt", "URI", "_requiredHeaders"}
)
# Inside ``_kmd``: the last-modified time and a session token made for this very call.
VOLATILE_KMD_KEYS: Final = frozenset({"lmt", "authtoken"})
VOLATILE = "<volatile>"
_ID_KEY = re.compile(r"^(?:[0-9a-f]{24}|[0-9a-f-]{32,36}|\d{6,})$", re.IGNORECASE)
MAX_PATHS: Final = 64

Json = None | bool | int | float | str | list["Json"] | dict[str, "Json"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What a client received: status, the headers it reads (lower-case names), and the body:
    parsed JSON when it was JSON, else the raw bytes."""

    status: int
    headers: Mapping[str, str]
    body: Json | bytes


def normalize(status: int, headers: Mapping[str, str], body: Json | bytes) -> Answer:
    kept = {name: _header_value(name, headers[name]) for name in CLIENT_HEADERS if name in headers}
    return Answer(status, kept, body if isinstance(body, bytes) else _blank_volatile(body))


def _header_value(name: str, value: str) -> str:
    if name == "location":
        return value.split("?", 1)[0]  # a signed storage URL: its signature changes every call
    if name == "content-type":
        return value.replace(" ", "").lower()
    return value


def _blank_volatile(value: Json, volatile: frozenset[str] = VOLATILE_KEYS) -> Json:
    if isinstance(value, dict):
        return {
            k: VOLATILE
            if k in volatile
            else _blank_volatile(v, VOLATILE_KMD_KEYS if k == "_kmd" else VOLATILE_KEYS)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_blank_volatile(item) for item in value]
    return value


def differences(old: Answer, new: Answer, *, ordered: bool) -> frozenset[str]:
    """The field paths where ``new`` differs from ``old`` (at most ``MAX_PATHS`` of them).

    ``ordered`` says whether array order is part of the answer (the query asked for a sort);
    otherwise arrays of entities are matched by ``_id``, as a set.
    """
    paths: set[str] = set()
    if old.status != new.status:
        paths.add("status")
    for name in CLIENT_HEADERS:
        if old.headers.get(name) != new.headers.get(name):
            paths.add(f"header:{name}")
    if isinstance(old.body, bytes) or isinstance(new.body, bytes):
        if old.body != new.body:
            paths.add("$")
    else:
        for path in _walk(old.body, new.body, "$", ordered):
            paths.add(path)
            if len(paths) >= MAX_PATHS:
                break
    return frozenset(paths)


def _walk(old: Json, new: Json, path: str, ordered: bool) -> Iterator[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old.keys() | new.keys():
            child = f"{path}.{fold_key(key)}"
            if key not in old or key not in new:
                yield child
            else:
                yield from _walk(old[key], new[key], child, ordered)
    elif isinstance(old, list) and isinstance(new, list):
        yield from _walk_list(old, new, path + "[]", ordered)
    elif type(old) is not type(new) or old != new:
        yield path


def _walk_list(old: list[Json], new: list[Json], path: str, ordered: bool) -> Iterator[str]:
    if len(old) != len(new):
        yield path + "#length"
    if not ordered:
        old_by_id, new_by_id = _by_id(old), _by_id(new)
        if old_by_id is not None and new_by_id is not None:
            if old_by_id.keys() != new_by_id.keys():
                yield path + "._id"
            for key in old_by_id.keys() & new_by_id.keys():
                yield from _walk(old_by_id[key], new_by_id[key], path, ordered)
            return
    for before, after in zip(old, new, strict=False):
        yield from _walk(before, after, path, ordered)


def _by_id(items: list[Json]) -> dict[str, Json] | None:
    """Entities keyed by ``_id`` when every item is an entity with a distinct id."""
    keyed: dict[str, Json] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("_id"), str):
            return None
        keyed[str(item["_id"])] = item
    return keyed if len(keyed) == len(items) else None


def fold_key(key: str) -> str:
    """An object key as it appears in a field path: ids fold into ``<id>``, and keys that are
    not plain names (a client chose them) are never echoed."""
    if _ID_KEY.match(key):
        return "<id>"
    if len(key) > 40 or not key.replace("_", "").replace("-", "").isalnum():
        return "<key>"
    return key
