"""A Kinvey client at one API version that records what it sees, step by step.

It speaks the way that version's SDK does (spec §6): the v3 SDK puts a trailing slash on every
path, ``?_=<random>`` on every request and ``kinveyfile_tls=true`` on appdata reads; the v4
SDK sends lower-case header names; the v6 SDK sends ``Content-Type: application/json`` even on
GET and DELETE. Each recorded step becomes an :class:`Observation`; quiet steps (setup) are
checked but not compared.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from tests.conftest import APP_KEY, APP_SECRET, MASTER_SECRET
from tests.e2e.normalize import Normalizer, Observation, kinvey_headers

_ABSENT = object()
VERSION_HEADER = "X-Kinvey-API-Version"


class SetupFailed(AssertionError):
    """A quiet step that must succeed did not: the scenario cannot go on."""


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


APP_AUTH = basic(APP_KEY, APP_SECRET)
MASTER_AUTH = basic(APP_KEY, MASTER_SECRET)


@dataclass
class User:
    username: str
    password: str
    user_id: str = ""
    token: str | None = None


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    raw: bytes
    json: Any

    def field(self, *path: str) -> Any:
        """``reply.field("_kmd", "authtoken")``; None when any step is missing."""
        value = self.json
        for name in path:
            if not isinstance(value, dict):
                return None
            value = value.get(name)
        return value


@dataclass
class KinveyClient:
    http: aiohttp.ClientSession
    base_url: str
    version: int
    normalizer: Normalizer = field(default_factory=Normalizer)
    observations: list[Observation] = field(default_factory=list)

    # --- names and credentials ------------------------------------------------------------
    def unique(self, label: str) -> str:
        """A name unique to this run; observations show it as ``<label>``."""
        name = f"{label}-{secrets.token_hex(5)}"
        self.normalizer.names[name] = f"<{label}>"
        return name

    def auth(self, user: User) -> str:
        """How this version's SDK authenticates a logged-in user."""
        if self.version == 0 or user.token is None:
            return basic(user.username, user.password)
        return f"Kinvey {user.token}"

    # --- HTTP -----------------------------------------------------------------------------
    def _headers(self, auth: str | None, extra: dict[str, str] | None, has_body: bool) -> Any:
        # A scenario may spell the version header itself (any letter case): then only its own.
        respelled = any(name.lower() == VERSION_HEADER.lower() for name in extra or {})
        headers = {} if respelled else {VERSION_HEADER: str(self.version)}
        if auth is not None:
            headers["Authorization"] = auth
        if has_body or self.version == 6:
            headers["Content-Type"] = "application/json"
        headers.update(extra or {})
        if self.version == 4:
            return {name.lower(): value for name, value in headers.items()}
        return headers

    def _target(self, method: str, path: str, params: dict[str, str] | None) -> URL:
        query = dict(params or {})
        if self.version == 3:
            if method == "GET" and path.startswith("/appdata/"):
                query["kinveyfile_tls"] = "true"
            path = path if path.endswith("/") else path + "/"
            query["_"] = secrets.token_hex(4)
        text = path + ("?" + urlencode(query, quote_via=quote) if query else "")
        return URL(self.base_url + text, encoded=True)

    async def call(
        self,
        step: str | None,
        method: str,
        path: str,
        *,
        auth: str | None = None,
        body: Any = _ABSENT,
        raw_body: bytes | AsyncIterable[bytes] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        expect: int | tuple[int, ...] | None = None,
    ) -> Reply:
        """One Kinvey API call; recorded as ``step`` unless step is None (a quiet setup step,
        which must answer ``expect``). A ``raw_body`` given as an async iterable is sent with
        ``Transfer-Encoding: chunked``."""
        data = raw_body if raw_body is not None else None
        if body is not _ABSENT:
            data = json.dumps(body).encode()
        request = f"{method} {self.normalizer.text(path)}"
        try:
            async with self.http.request(
                method,
                self._target(method, path, params),
                headers=self._headers(auth, headers, data is not None),
                data=data,
                allow_redirects=False,
            ) as response:
                raw = await response.read()
                reply = Reply(response.status, response.headers, raw, _json_or_none(raw))
        except aiohttp.ClientError as exc:
            if step is None:
                raise SetupFailed(f"{request}: {type(exc).__name__}: {exc}") from exc
            self._record(step, request, f"exception {type(exc).__name__}", (), None)
            return Reply(0, CIMultiDictProxy(CIMultiDict()), b"", None)
        if step is None:
            wanted = (expect,) if isinstance(expect, int) else expect
            if wanted is not None and reply.status not in wanted:
                raise SetupFailed(f"{request}: {reply.status} {raw[:300]!r} (wanted {wanted})")
        else:
            body_seen = self.normalizer.body(reply.json, reply.status) if raw else None
            if raw and reply.json is None:
                body_seen = f"<non-JSON body, {len(raw)} bytes>"
            self._record(
                step, request, reply.status, kinvey_headers(reply.headers), body_seen, reply.json
            )
        return reply

    async def storage(
        self,
        step: str,
        method: str,
        url: str,
        *,
        data: bytes | AsyncIterable[bytes] = b"",
        headers: dict[str, str],
    ) -> Reply:
        """Follow a storage URL the API handed out (no Kinvey headers; bytes compared)."""
        request = f"{method} <storage URL>"
        try:
            async with self.http.request(
                method, URL(url, encoded=True), data=data, headers=headers, allow_redirects=False
            ) as response:
                raw = await response.read()
                reply = Reply(response.status, response.headers, raw, None)
        except aiohttp.ClientError as exc:
            self._record(step, request, f"exception {type(exc).__name__}", (), None)
            return Reply(0, CIMultiDictProxy(CIMultiDict()), b"", None)
        seen = raw.decode("latin-1") if method == "GET" and reply.status == 200 else None
        self._record(step, request, reply.status, (), seen)
        return reply

    def note(self, step: str, value: Any) -> None:
        """Record a fact the scenario derived itself (e.g. "no URL was handed out")."""
        self._record(step, "-", "note", (), self.normalizer.body(value, 200))

    def _record(
        self,
        step: str,
        request: str,
        status: int | str,
        headers: Any,
        body: Any,
        raw: Any = None,
    ) -> None:
        self.observations.append(Observation(step, status, headers, body, request, raw))


async def chunked(data: bytes, size: int) -> AsyncIterator[bytes]:
    """``data`` as a body aiohttp sends with ``Transfer-Encoding: chunked``, ``size`` a chunk."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
