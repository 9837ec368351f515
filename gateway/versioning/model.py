"""RequestInfo and ResponseInfo: what a version-change hook reads and rewrites.

Bodies are loaded lazily: a request or response that no hook needs keeps its stream and is
relayed without buffering. ``json`` parses the buffered body once; assigning it marks the body
changed, so an untouched body is never re-serialised (its bytes stay exactly as received).
Reading ``json`` of a body nobody loaded raises ``UndeclaredBodyRead``: a request body is loaded
only when a hook of the plan declares ``reads_body``, a response body by the engine before a
response hook or by ``await response.load()`` in an around hook.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote_plus

from multidict import CIMultiDict

from gateway.kinvey import cors
from gateway.kinvey.errors import KinveyError
from gateway.kinvey.json_body import decode_json, encode_json
from gateway.kinvey.routes import RouteMatch

if TYPE_CHECKING:
    from gateway.versioning.context import ExchangeContext

_UNSET: Any = object()


class UndeclaredBodyRead(RuntimeError):
    """A hook read a body that was never loaded: its declaration (``reads_body``) is missing."""


class RequestInfo:
    __slots__ = (
        "_json",
        "body",
        "client_version",
        "context",
        "headers",
        "method",
        "raw_path",
        "route",
        "stream",
        "upstream_version",
    )

    def __init__(
        self,
        *,
        method: str,
        raw_path: str,
        route: RouteMatch,
        headers: CIMultiDict[str],
        client_version: int,
        upstream_version: int,
        context: ExchangeContext,
        body: bytes | None = None,
        stream: Any = None,
    ) -> None:
        self.method = method
        self.raw_path = raw_path
        self.route = route
        self.headers = headers
        self.client_version = client_version
        self.upstream_version = upstream_version
        self.context = context
        self.body = body
        self.stream = stream
        self._json: Any = _UNSET

    @property
    def path(self) -> str:
        return self.raw_path.split("?", 1)[0]

    @property
    def query_string(self) -> str:
        return self.raw_path.partition("?")[2]

    def query(self, name: str) -> str | None:
        """The first value of a query parameter, decoded."""
        for part in self.query_string.split("&"):
            key, _, value = part.partition("=")
            if unquote_plus(key) == name:
                return unquote_plus(value)
        return None

    def set_query(self, name: str, value: str | None) -> None:
        """Replace (or with None, remove) a query parameter; other bytes stay as they were."""
        kept = [
            p
            for p in self.query_string.split("&")
            if p and unquote_plus(p.partition("=")[0]) != name
        ]
        if value is not None:
            kept.append(f"{quote(name, safe='')}={quote(value, safe='')}")
        self.raw_path = self.path + ("?" + "&".join(kept) if kept else "")

    @property
    def json(self) -> Any:
        if self._json is _UNSET:
            body = self.body
            if body is None:
                if self.stream is not None:
                    raise UndeclaredBodyRead("request body not loaded: declare reads_body=True")
                body = b""  # the request has no body
            self._json = decode_json(body, self.headers.get("Content-Encoding"))
        return self._json

    @json.setter
    def json(self, value: Any) -> None:
        self._json = value
        self.body = encode_json(value)
        self.headers.popall("Content-Encoding", None)
        self.headers.popall("Content-Length", None)
        self.headers["Content-Type"] = "application/json"

    def derive(
        self, method: str, raw_path: str, route: RouteMatch, body: Any = None
    ) -> RequestInfo:
        """A new upstream request for a multi-call flow, with this request's credentials."""
        headers: CIMultiDict[str] = CIMultiDict()
        for name in ("Authorization", "X-Kinvey-Device-Information", "X-Kinvey-Client-App-Version"):
            if name in self.headers:
                headers[name] = self.headers[name]
        derived = RequestInfo(
            method=method,
            raw_path=raw_path,
            route=route,
            headers=headers,
            client_version=self.client_version,
            upstream_version=self.upstream_version,
            context=self.context,
            body=b"",
        )
        if body is not None:
            derived.json = body
        return derived


class ResponseInfo:
    __slots__ = ("_json", "_loader", "body", "headers", "source", "status", "upstream_status")

    def __init__(
        self,
        status: int,
        headers: CIMultiDict[str] | None = None,
        body: bytes | None = b"",
        *,
        loader: Callable[[], Awaitable[bytes]] | None = None,
        upstream_status: int | None = None,
        source: Any = None,
    ) -> None:
        self.status = status
        self.source = source  # the upstream response whose stream is relayed if never loaded
        self.headers: CIMultiDict[str] = headers if headers is not None else CIMultiDict()
        self.body = body
        self._loader = loader
        self._json: Any = _UNSET
        self.upstream_status = upstream_status

    @classmethod
    def from_error(cls, error: KinveyError) -> ResponseInfo:
        return cls.from_json(error.status_code, error.body())

    @classmethod
    def from_json(cls, status: int, value: Any) -> ResponseInfo:
        """An answer the gateway makes itself; cross-origin apps must be able to read it."""
        response = cls(status)
        cors.add_answer_headers(response.headers)
        response.json = value
        return response

    async def load(self) -> bytes:
        """Buffer the body (once); the upstream stream is read to its end."""
        if self.body is None:
            assert self._loader is not None
            self.body = await self._loader()
            self._loader = None
        return self.body

    @property
    def json(self) -> Any:
        if self._json is _UNSET:
            if self.body is None:
                raise UndeclaredBodyRead("response body not loaded: await response.load() first")
            self._json = decode_json(self.body, self.headers.get("Content-Encoding"))
        return self._json

    @json.setter
    def json(self, value: Any) -> None:
        self._json = value
        self.body = encode_json(value)
        for name in ("Content-Encoding", "Content-Length", "Transfer-Encoding"):
            self.headers.popall(name, None)
        self.headers["Content-Type"] = "application/json; charset=utf-8"

    def empty(self, status: int) -> None:
        """Become a body-less response (204, 302): no body and no Content-Type."""
        self.status = status
        self.body = b""
        self._json = _UNSET
        for name in ("Content-Type", "Content-Encoding", "Content-Length", "Transfer-Encoding"):
            self.headers.popall(name, None)
