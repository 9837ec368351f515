"""The one route table: a raw request path → a route name and its parameters.

Route names are what version-change hooks match on and what the ``route`` metric label
carries (never a raw path). Matching splits the path on ``/`` without regular expressions,
ignores one trailing slash (the v3 SDK adds one to every path) and percent-decodes each
segment for the parameters while the raw path is forwarded untouched.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote

ROUTE_NAMES: tuple[str, ...] = (
    "appdata.handshake",
    "appdata.collection",
    "appdata.count",
    "appdata.group",
    "appdata.deltaset",
    "appdata.entity",
    "user.collection",
    "user.login",
    "user.logout",
    "user.me",
    "user.mfa",
    "user.action",
    "user.restore",
    "user.entity",
    "blob.collection",
    "blob.upload_loc",
    "blob.download_loc",
    "blob.remove_loc",
    "blob.entity",
    "rpc.custom",
    "rpc.other",
    "push",
    "gateway.file",
    "other",
)
KNOWN_ROUTES = frozenset(ROUTE_NAMES)


class RouteMatch(NamedTuple):
    """Immutable like a frozen dataclass, at half its construction cost (every request)."""

    name: str
    app_key: str | None = None
    collection: str | None = None
    entity_id: str | None = None


OTHER = RouteMatch("other")
_APPDATA_ACTIONS = {"_count": "appdata.count", "_group": "appdata.group"}
_BLOB_LOC = {
    "upload-loc": "blob.upload_loc",
    "download-loc": "blob.download_loc",
    "remove-loc": "blob.remove_loc",
}
# Per-user MFA resources (v6): authenticators, and the recovery codes (list, regenerate).
_USER_MFA_RESOURCES = frozenset({"authenticators", "recovery-codes"})
_USER_NAMED = {"login": "user.login", "_logout": "user.logout", "_me": "user.me"}


def _segments(raw_path: str) -> list[str]:
    path = raw_path[: raw_path.index("?")] if "?" in raw_path else raw_path
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    parts = path.split("/")
    del parts[0]
    if "%" not in path:  # the common case: nothing to decode
        return parts
    return [unquote(p) if "%" in p else p for p in parts]


def unclear_path(raw_path: str) -> str | None:
    """Why a path could be read differently upstream than here, or None when it cannot.

    A server or proxy in front of the upstream may resolve dot segments (also percent-encoded:
    ``%2e%2e``), merge doubled slashes or take a backslash or an encoded slash for a slash;
    ``/appdata/other/../kid/...`` would then reach app ``kid`` while the gateway applied the
    policy of ``other``. Such paths are refused rather than normalized, so the app key the
    gateway applies policy to is the one any upstream acts on. One trailing slash stays
    allowed (the v3 SDK adds it); an encoded slash stays allowed past the app key (entity ids).
    """
    end = raw_path.find("?")
    path = raw_path if end < 0 else raw_path[:end]
    if "%" not in path and "/." not in path and "//" not in path and "\\" not in path:
        return None  # the common case: four scans in C, no call (every request comes here)
    parts = path.split("/")
    last = len(parts) - 1
    for index, part in enumerate(parts[1:], 1):
        text = unquote(part) if "%" in part else part
        if text in (".", ".."):
            return "the path has a dot segment"
        if not part and index != last:
            return "the path has an empty segment (a doubled slash)"
        if "\\" in text:
            return "the path has a backslash"
        if index <= 2 and "/" in text:
            return "the path has an encoded slash before the app key's end"
    return None


def match(raw_path: str) -> RouteMatch:
    """Classify a raw path (with or without its query string)."""
    seg = _segments(raw_path)
    if not seg or not seg[0]:
        return OTHER
    head, n = seg[0], len(seg)
    if head == "appdata":
        return _appdata(seg, n)
    if n < 2 or not seg[1]:
        return OTHER
    app = seg[1]
    if head == "user":
        return _user(seg, n, app)
    if head == "blob":
        return _blob(seg, n, app)
    if head == "rpc":
        if n == 4 and seg[2] == "custom":
            return RouteMatch("rpc.custom", app, None, seg[3])
        return RouteMatch("rpc.other", app)
    if head == "push":
        return RouteMatch("push", app)
    if head == "_gateway" and app == "files":
        return RouteMatch("gateway.file")
    return OTHER


def _appdata(seg: list[str], n: int) -> RouteMatch:
    if n == 1 or (n == 2 and seg[1] == ""):
        return RouteMatch("appdata.handshake")
    app = seg[1]
    if n == 2:
        return RouteMatch("appdata.handshake", app)
    if n == 3:
        return RouteMatch("appdata.collection", app, seg[2])
    if n == 4:
        action = _APPDATA_ACTIONS.get(seg[3])
        if action:
            return RouteMatch(action, app, seg[2])
        if seg[3] == "_deltaset":
            return RouteMatch("appdata.deltaset", app, seg[2])
        return RouteMatch("appdata.entity", app, seg[2], seg[3])
    return RouteMatch("other", app)


def _user(seg: list[str], n: int, app: str) -> RouteMatch:
    if n == 2:
        return RouteMatch("user.collection", app)
    third = seg[2]
    if third == "mfa":
        return RouteMatch("user.mfa", app)
    if n == 3:
        named = _USER_NAMED.get(third)
        if named:
            return RouteMatch(named, app)
        if third.startswith("_"):
            return RouteMatch("user.action", app)
        return RouteMatch("user.entity", app, None, third)
    if seg[3] in _USER_MFA_RESOURCES:
        return RouteMatch("user.mfa", app, None, third)
    if n == 4 and seg[3] == "_restore":
        return RouteMatch("user.restore", app, None, third)
    return RouteMatch("other", app)


def _blob(seg: list[str], n: int, app: str) -> RouteMatch:
    if n == 2:
        return RouteMatch("blob.collection", app)
    if n == 3:
        return RouteMatch("blob.entity", app, None, seg[2])
    loc = _BLOB_LOC.get(seg[2])
    if loc and n == 4:
        return RouteMatch(loc, app, None, seg[3])
    return RouteMatch("other", app)
