"""User documents as the API shows them, and the bits of user state shared by the user routes."""

from __future__ import annotations

import copy
import secrets
import uuid
from typing import Any

from gateway.emulator.store import Document, UserRecord, new_id

MFA_CODE = "123456"  # the one code that completes an MFA login on the emulator
RECOVERY_CODE_COUNT = 10


def public_user(
    record: UserRecord, *, authtoken: str | None = None, show_status: bool = False
) -> Document:
    """The user document (never the password), with ``_kmd.authtoken`` when given one."""
    doc = copy.deepcopy(record.doc)
    kmd = doc.setdefault("_kmd", {})
    if authtoken is not None:
        kmd["authtoken"] = authtoken
    if show_status and record.disabled:
        kmd["status"] = {"val": "disabled", "lastChange": record.disabled_at}
    return doc


def generated_username() -> str:
    return str(uuid.uuid4())


def generated_password() -> str:
    return secrets.token_urlsafe(18)


def ensure_authenticator(record: UserRecord) -> None:
    """An account that requires MFA has at least one authenticator to be challenged on."""
    if record.mfa_required and not record.authenticators:
        record.authenticators.append(new_authenticator("totp", "Authenticator app"))


def new_recovery_codes() -> list[str]:
    return [secrets.token_hex(5) for _ in range(RECOVERY_CODE_COUNT)]


def used_recovery_code(record: UserRecord, code: object) -> bool:
    """Whether ``code`` is one of the account's recovery codes; a used code is gone."""
    if not isinstance(code, str) or code not in record.recovery_codes:
        return False
    record.recovery_codes.remove(code)
    return True


def new_authenticator(kind: str, name: str) -> Document:
    return {"id": new_id(), "type": kind, "name": name}


def authenticators_of(record: UserRecord) -> list[dict[str, Any]]:
    return [dict(authenticator) for authenticator in record.authenticators]
