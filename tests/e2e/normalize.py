"""Observations: what a client sees of one response, with run-specific values made comparable.

Two runs of the same scenario (the reference emulator at N, and the gateway pinned to M) differ
in values no client can rely on: generated ``_id``s, session/MFA/device tokens, times, storage
URLs and hosts, generated usernames and passwords, request ids, and the free text of error
descriptions. :class:`Normalizer` replaces those with placeholders numbered by first
appearance (``<id1>``, ``<token2>``), so relations survive (the ``userId`` of an MFA answer is
still the user's ``_id``) while the values themselves do not matter. Numbering restarts with
every body, so an accepted divergence in one step cannot shift the labels of later steps.
Everything else (status, error names, field sets, counts, flags, client-chosen values) must
match exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDictProxy

_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?")
_HEX_ID = re.compile(r"[0-9a-f]{24}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_URL = re.compile(r"https?://", re.IGNORECASE)
_ERROR_NAME = re.compile(r"[A-Z][A-Za-z0-9]+")

TOKEN_KEYS = frozenset(
    {"authtoken", "authToken", "mfaSessionToken", "deviceToken", "recoveryCodes"}
)
SECRET_KEYS = frozenset({"password"})
ERROR_TEXT_KEYS = frozenset({"description", "debug"})


@dataclass(frozen=True)
class Observation:
    """One step of a scenario as the client saw it. ``request`` is for messages only."""

    step: str
    status: int | str
    headers: tuple[tuple[str, Any], ...]
    body: Any
    request: str = field(default="", compare=False)
    raw: Any = field(default=None, compare=False)  # the body before normalizing

    def describe(self) -> str:
        head = ", ".join(f"{name}={value!r}" for name, value in self.headers)
        return f"{self.status} [{head}] {self.body!r}"


@dataclass
class Normalizer:
    """Placeholders for one run; ``names`` maps the run's unique names to stable labels."""

    names: dict[str, str] = field(default_factory=dict)
    _seen: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self._seen:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._seen[key] = f"<{kind}{self._counts[kind]}>"
        return self._seen[key]

    def text(self, text: str) -> str:
        """A request path, for messages: the run's unique names and generated ids replaced."""
        for real, label in self.names.items():
            text = text.replace(real, label)
        text = _HEX_ID.sub("<id>", text)
        return _UUID.sub("<uuid>", text)

    def body(self, value: Any, status: int) -> Any:
        self._seen, self._counts = {}, {}
        if isinstance(value, dict) and set(value) == {"error"} and status >= 400:
            return {"error": _v0_error_text(value["error"])}
        return self._value(None, value)

    def _value(self, key: str | None, value: Any) -> Any:
        if isinstance(value, dict):
            is_error = isinstance(value.get("error"), str)
            return {
                name: (
                    "<text>"
                    if is_error and name in ERROR_TEXT_KEYS and isinstance(value[name], str)
                    else self._value(name, value[name])
                )
                # Sorted: placeholder numbering must not depend on how a body orders its keys.
                for name in sorted(value)
            }
        if isinstance(value, list):
            return [self._value(key, item) for item in value]
        if isinstance(value, str):
            return self._string(key, value)
        return value

    def _string(self, key: str | None, value: str) -> str:
        if value in self.names:
            return self.names[value]
        if key in TOKEN_KEYS:
            return self.placeholder("token", value)
        if key in SECRET_KEYS:
            return self.placeholder("secret", value)
        if _URL.match(value):
            return "<url>"
        if _ISO_TIME.fullmatch(value):
            return "<time>"
        if _HEX_ID.fullmatch(value):
            return self.placeholder("id", value)
        if _UUID.fullmatch(value):
            return self.placeholder("uuid", value)
        return value


def _v0_error_text(value: Any) -> Any:
    """v0 errors carry a description; an error *name* there would be a shape bug, so keep it."""
    if isinstance(value, str) and not _ERROR_NAME.fullmatch(value):
        return "<text>"
    return value


def content_kind(headers: CIMultiDictProxy[str]) -> str:
    content_type = headers.get("Content-Type")
    if content_type is None:
        return "none"
    media = content_type.split(";", 1)[0].strip().lower()
    return "json" if media == "application/json" else "other"


def kinvey_headers(headers: CIMultiDictProxy[str]) -> tuple[tuple[str, Any], ...]:
    """The headers clients rely on: version echo, request id, JSON-ness, Location presence."""
    return (
        ("api-version", headers.get("X-Kinvey-API-Version")),
        ("request-id", "X-Kinvey-Request-Id" in headers),
        ("content", content_kind(headers)),
        ("location", "Location" in headers),
    )
