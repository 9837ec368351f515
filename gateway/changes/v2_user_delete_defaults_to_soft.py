"""Version 2 made a plain user delete disable the user; ``?hard=true`` removes it."""

from __future__ import annotations

from gateway.changes.v1_user_delete_can_be_soft import USER_DELETE_FLAGS
from gateway.versioning import RequestInfo, VersionChange, older


class UserDeleteDefaultsToSoft(VersionChange):
    """User delete defaults to soft.

    Before version 2 a plain ``DELETE /user/:appKey/:id`` removed the user and ``?soft=true``
    (v1) disabled it; from version 2 a plain DELETE disables the user, ``?hard=true`` removes
    it and ``POST /user/:appKey/:id/_restore`` re-enables it. For v0/v1 clients the gateway
    sends a plain delete upstream with ``hard=true`` and a v1 ``soft=true`` as a plain DELETE;
    a ``hard`` flag from a v1 client is ignored as v1 ignored it (the v1 change already drops
    both flags of a v0 client). Newer clients on an older upstream: not needed (upstream pins
    start at 3).
    """

    introduced_in = 2

    @older.request("DELETE", routes={"user.entity"})
    def make_the_delete_mode_explicit(request: RequestInfo) -> None:
        soft = _is_true(request.query("soft"))
        for flag in USER_DELETE_FLAGS:
            request.set_query(flag, None)
        if not soft:
            request.set_query("hard", "true")


def _is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"
