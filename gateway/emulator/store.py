"""The emulator's in-memory backend state: collections, users, sessions, files, storage tickets.

Everything lives in plain dicts on one :class:`EmulatorStore` per app; aiohttp runs handlers on
one event loop and no method here awaits, so each operation is atomic without locks.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Document = dict[str, Any]
TicketPurpose = Literal["upload", "download", "delete"]

MFA_SESSION_SECONDS = 300.0


def new_id() -> str:
    """A 24-hex-digit id shaped like a MongoDB ObjectId, as Kinvey's ``_id`` values are."""
    return secrets.token_hex(12)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def iso_time(epoch: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if epoch is None else epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso_time(text: str) -> float | None:
    """Epoch seconds of an ISO 8601 time such as ``_kmd.lmt``; None when it is not one."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


class ChangeClock:
    """Millisecond times that never repeat: every write and every ``X-Kinvey-Request-Start``
    gets its own, so "changed since the request started" is exact, never a same-millisecond
    guess (a delta set must neither miss nor repeat a change)."""

    def __init__(self) -> None:
        self._last_ms = 0

    def tick(self) -> str:
        self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        return iso_time(self._last_ms / 1000)


CLOCK = ChangeClock()  # one per process: times stay unique across emulator apps too


def stamp_metadata(doc: Document, creator: str, previous: Document | None) -> Document:
    """Set ``_acl.creator`` and ``_kmd.lmt/ect`` the way the server owns them."""
    now = CLOCK.tick()
    given_acl = doc.get("_acl")
    acl: Document = given_acl if isinstance(given_acl, dict) else {}
    old_acl = previous.get("_acl", {}) if previous else {}
    creator_id = old_acl.get("creator") or creator  # the server owns the creator
    doc["_acl"] = {**acl, "creator": creator_id}
    created = previous.get("_kmd", {}).get("ect", now) if previous else now
    doc["_kmd"] = {"lmt": now, "ect": created}
    return doc


def _hash_password(password: str, salt: bytes) -> bytes:
    # Fast on purpose: an in-memory test backend, not a credential store.
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1000)


@dataclass
class UserRecord:
    doc: Document
    salt: bytes
    password_hash: bytes
    disabled: bool = False
    disabled_at: str = ""
    authenticators: list[Document] = field(default_factory=list)
    device_tokens: set[str] = field(default_factory=set)
    recovery_codes: list[str] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return str(self.doc["_id"])

    @property
    def username(self) -> str:
        return str(self.doc.get("username", ""))

    @property
    def mfa_required(self) -> bool:
        return self.doc.get("mfaRequired") is True

    def set_password(self, password: str) -> None:
        self.salt = secrets.token_bytes(16)
        self.password_hash = _hash_password(password, self.salt)

    def password_matches(self, password: str) -> bool:
        return hmac.compare_digest(_hash_password(password, self.salt), self.password_hash)


@dataclass
class MfaSession:
    user_id: str
    expires_at: float


@dataclass
class FileRecord:
    meta: Document
    content: bytes | None = None
    content_type: str = "application/octet-stream"


@dataclass
class StorageTicket:
    """One storage URL: bound to one file and one purpose, valid until ``expires_at``."""

    file_id: str
    purpose: TicketPurpose
    expires_at: float
    required_headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    received: bytearray = field(default_factory=bytearray)
    complete: bool = False


class EmulatorStore:
    def __init__(self) -> None:
        self.collections: dict[str, dict[str, Document]] = {}
        # Deleted entity ids and when (``_kmd.lmt``-style time), per collection: for _deltaset.
        self.tombstones: dict[str, dict[str, str]] = {}
        self.users: dict[str, UserRecord] = {}
        self.sessions: dict[str, str] = {}
        self.mfa_sessions: dict[str, MfaSession] = {}
        self.files: dict[str, FileRecord] = {}
        self.tickets: dict[str, StorageTicket] = {}
        self.outbox: list[dict[str, str]] = []  # emails the user RPCs "sent"
        self.push_devices: dict[str, set[tuple[str, str]]] = {}  # user id → (platform, id)

    # --- appdata -------------------------------------------------------------------------
    def collection(self, name: str) -> dict[str, Document]:
        return self.collections.setdefault(name, {})

    def delete_entity(self, collection: str, entity_id: str) -> None:
        if self.collection(collection).pop(entity_id, None) is not None:
            self.tombstones.setdefault(collection, {})[entity_id] = CLOCK.tick()

    def forget_deletion(self, collection: str, entity_id: str) -> None:
        """A deleted id written again is a change, no longer a deletion."""
        self.tombstones.get(collection, {}).pop(entity_id, None)

    # --- users ---------------------------------------------------------------------------
    def user_by_username(self, username: str) -> UserRecord | None:
        for record in self.users.values():
            if record.username == username:
                return record
        return None

    def add_user(self, doc: Document, password: str) -> UserRecord:
        record = UserRecord(doc=doc, salt=b"", password_hash=b"")
        record.set_password(password)
        self.users[record.user_id] = record
        return record

    def remove_user(self, user_id: str) -> None:
        self.users.pop(user_id, None)
        self.drop_sessions(user_id)

    def new_session(self, user_id: str) -> str:
        token = new_token()
        self.sessions[token] = user_id
        return token

    def session_user(self, token: str) -> UserRecord | None:
        user_id = self.sessions.get(token)
        return self.users.get(user_id) if user_id is not None else None

    def drop_sessions(self, user_id: str) -> None:
        for token in [t for t, owner in self.sessions.items() if owner == user_id]:
            del self.sessions[token]
        for token in [t for t, s in self.mfa_sessions.items() if s.user_id == user_id]:
            del self.mfa_sessions[token]

    def new_mfa_session(self, user_id: str) -> str:
        token = new_token()
        self.mfa_sessions[token] = MfaSession(user_id, time.time() + MFA_SESSION_SECONDS)
        return token

    def mfa_session_user(self, token: str) -> UserRecord | None:
        session = self.mfa_sessions.get(token)
        if session is None or session.expires_at < time.time():
            self.mfa_sessions.pop(token, None)
            return None
        return self.users.get(session.user_id)

    # --- storage -------------------------------------------------------------------------
    def issue_ticket(self, ticket: StorageTicket) -> str:
        self._forget_expired_tickets()
        token = new_token()
        self.tickets[token] = ticket
        return token

    def ticket(self, token: str) -> StorageTicket | None:
        ticket = self.tickets.get(token)
        if ticket is None or ticket.expires_at < time.time():
            self.tickets.pop(token, None)
            return None
        return ticket

    def remove_file(self, file_id: str) -> bool:
        removed = self.files.pop(file_id, None) is not None
        for token in [t for t, ticket in self.tickets.items() if ticket.file_id == file_id]:
            del self.tickets[token]
        return removed

    def _forget_expired_tickets(self) -> None:
        now = time.time()
        for token in [t for t, ticket in self.tickets.items() if ticket.expires_at < now]:
            del self.tickets[token]
