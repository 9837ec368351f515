"""Version 1 added on-demand soft delete of users (``?soft=true``)."""

from __future__ import annotations

from gateway.versioning import RequestInfo, VersionChange, older

USER_DELETE_FLAGS = ("soft", "hard")


class UserDeleteCanBeSoft(VersionChange):
    """User deletes can disable instead of remove.

    From version 1, ``DELETE /user/:appKey/:id?soft=true`` disables the user (a plain DELETE
    still removes it). Version 0 knew no flag: every user delete removed the user. For v0
    clients the gateway drops ``soft`` (and ``hard``, which v0 did not know either) so the
    delete stays a removal at every later version. Newer clients on an older upstream: not
    needed (upstream pins start at 3).
    """

    introduced_in = 1

    @older.request("DELETE", routes={"user.entity"})
    def ignore_flags_v0_did_not_know(request: RequestInfo) -> None:
        for flag in USER_DELETE_FLAGS:
            request.set_query(flag, None)
