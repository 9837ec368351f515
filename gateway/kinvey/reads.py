"""Which requests shadow comparison may repeat: reads, never anything with a side effect."""

from __future__ import annotations

from typing import Final

# Reads only. A POST qualifies for `_group` alone, the one Kinvey read that takes a body;
# writes, logins, logouts, RPCs, custom endpoints and push never do.
READ_ROUTES: Final = frozenset(
    {
        "appdata.handshake",
        "appdata.collection",
        "appdata.entity",
        "appdata.count",
        "appdata.group",
        "appdata.deltaset",
        "user.me",
        "user.entity",
        "user.collection",
        "blob.entity",
    }
)
_READ_METHODS: Final = frozenset({"GET", "HEAD"})


def is_read(method: str, route: str) -> bool:
    if route not in READ_ROUTES:
        return False
    return method in _READ_METHODS or (method == "POST" and route == "appdata.group")
