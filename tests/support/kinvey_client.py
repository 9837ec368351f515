"""Calling a Kinvey backend (the gateway or the emulator) as an app would, over real HTTP.

``kinvey_request`` composes what a Kinvey app sends (API version header, Authorization, a JSON
body); ``KinveyClient`` sends it to a base URL, on its own connection or on a session it is
given (the emulator tests give it their aiohttp ``TestClient``'s), and returns a ``Reply``.
"""

from __future__ import annotations

import base64
import contextlib
import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

UNSET: Any = object()
"""The default of ``body``: no JSON body (``None`` would be sent as JSON ``null``)."""


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def quoted(path: str) -> str:
    """``path`` percent-encoded the way aiohttp encodes a plain string URL.

    ``KinveyClient`` sends a path exactly as written (so signed URLs and pre-encoded queries stay
    byte for byte); a test that writes a readable query such as ``?sort={"n":1}`` quotes it here.
    """
    return URL(path).raw_path_qs


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def error(self) -> str:
        return str(self.json["error"])


def kinvey_request(
    *,
    version: int | None = None,
    auth: str | None = None,
    body: Any = UNSET,
    data: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[Any, dict[str, str]]:
    """The body and headers a Kinvey app sends; ``headers`` given explicitly win."""
    sent = dict(headers or {})
    if version is not None:
        sent.setdefault("X-Kinvey-API-Version", str(version))
    if auth is not None:
        sent.setdefault("Authorization", auth)
    if body is not UNSET:
        data = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    return data, sent


class KinveyClient:
    """Calls ``base_url`` as a Kinvey app at one API version, with default credentials.

    Each call may name another ``version`` or ``auth``. Without a ``session`` every call opens
    its own connection; with one, calls share its connection pool.
    """

    def __init__(
        self,
        base_url: str,
        version: int | None,
        auth: str | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url
        self.version = version
        self.auth = auth
        self._session = session

    async def call(
        self,
        method: str,
        path: str,
        *,
        version: int | None = None,
        auth: str | None = None,
        body: Any = UNSET,
        data: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        allow_redirects: bool = False,
    ) -> Reply:
        data, sent = kinvey_request(
            version=self.version if version is None else version,
            auth=self.auth if auth is None else auth,
            body=body,
            data=data,
            headers=headers,
        )
        url = URL(self.base_url + path, encoded=True)
        async with contextlib.AsyncExitStack() as stack:
            session = self._session
            if session is None:
                session = await stack.enter_async_context(aiohttp.ClientSession())
            async with session.request(
                method,
                url,
                data=data,
                headers=sent,
                params=params,
                allow_redirects=allow_redirects,
            ) as response:
                return Reply(response.status, response.headers, await response.read())
