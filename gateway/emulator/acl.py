"""Entity access control (``_acl``), as Kinvey's default "Shared" collection permission has it.

Every collection is Shared: any user reads every entity, and only the entity's ``creator`` may
change or delete it ("readable but not writable by other users", as the REST users and data
store guides put it). An entity's ``_acl`` widens or narrows that (Kinvey's security guide):
``gr: false`` hides it from users other than the creator and those listed in ``r``;
``gw: true`` lets every user write it; ``r`` and ``w`` name user ids that may read or write.
The master secret (and, in the emulator, the app secret) passes every check. A write without
access is ``401 InsufficientCredentials``, so is a read by id; queries and counts skip what the
caller may not read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.emulator import auth
from gateway.emulator.store import Document
from gateway.kinvey.errors import KinveyError


def _acl_of(doc: Document) -> dict[str, Any]:
    acl = doc.get("_acl")
    return acl if isinstance(acl, dict) else {}


def _listed(acl: dict[str, Any], key: str, user_id: str) -> bool:
    names = acl.get(key)
    return isinstance(names, list) and user_id in names


def _owns_or_may_write(principal: auth.Principal, acl: dict[str, Any]) -> bool:
    if principal.user is None:  # master or app secret
        return True
    user_id = principal.user.user_id
    return acl.get("creator") == user_id or _listed(acl, "w", user_id)


def may_read(principal: auth.Principal, doc: Document) -> bool:
    acl = _acl_of(doc)
    if _owns_or_may_write(principal, acl) or acl.get("gr") is not False:
        return True
    return principal.user is not None and _listed(acl, "r", principal.user.user_id)


def may_write(principal: auth.Principal, doc: Document) -> bool:
    acl = _acl_of(doc)
    return acl.get("gw") is True or _owns_or_may_write(principal, acl)


def readable(principal: auth.Principal, docs: Iterable[Document]) -> list[Document]:
    return [doc for doc in docs if may_read(principal, doc)]


def no_access(action: str) -> KinveyError:
    return auth.insufficient_credentials(
        f"The entity's _acl does not allow this user to {action} it"
    )


def require_read(principal: auth.Principal, doc: Document) -> None:
    if not may_read(principal, doc):
        raise no_access("read")


def require_write(principal: auth.Principal, doc: Document) -> None:
    if not may_write(principal, doc):
        raise no_access("change")
