"""Fixed Kinvey-shaped bodies the benchmark upstream serves and the load generator sends.

Sizes are exact (the entity is 307 bytes, the POST body 1 KiB) so runs stay comparable; a
padding field takes up the slack.
"""

from __future__ import annotations

import json
from typing import Any

APP_KEY = "kid_bench"
COLLECTION_PATH = f"/appdata/{APP_KEY}/books"
ENTITY_PATH = f"{COLLECTION_PATH}/5f1b2c3d4e5f60718293a4b5"
BLOB_PATH = f"/blob/{APP_KEY}"
# Unknown paths are streamed byte for byte by the gateway (spec §5), like file bytes.
DOWNLOAD_PATH = "/bench-files/10mb.bin"
UPLOAD_PATH = "/bench-files/upload"
BIG_BODY_BYTES = 10 * 1024 * 1024
ENTITY_BYTES = 307
POST_BODY_BYTES = 1024
UPSTREAM_API_VERSION = 6
SESSION_AUTH = "Kinvey 1f3a6c2e-bench-session-token.c9d0e1f2"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _padded(doc: dict[str, Any], field: str, size: int) -> str:
    """``doc`` with ``field`` set to filler so that its compact JSON is exactly ``size`` bytes."""
    doc = {**doc, field: ""}
    missing = size - len(_compact(doc).encode())
    if missing < 0:
        raise ValueError(f"document is already {size - missing} bytes, over {size}")
    doc[field] = "x" * missing
    return _compact(doc)


def _kmd(timestamp: str) -> dict[str, str]:
    return {"lmt": timestamp, "ect": timestamp}


ENTITY_JSON = _padded(
    {
        "_id": "5f1b2c3d4e5f60718293a4b5",
        "title": "The Left Hand of Darkness",
        "author": "Ursula K. Le Guin",
        "year": 1969,
        "tags": ["science-fiction", "classic"],
        "_acl": {"creator": "5f1b2c3d4e5f60718293a4b0"},
        "_kmd": _kmd("2026-11-28T10:00:00.000Z"),
        "notes": "",
    },
    "notes",
    ENTITY_BYTES,
)

POST_BODY_JSON = _padded(
    {
        "title": "A Wizard of Earthsea",
        "author": "Ursula K. Le Guin",
        "year": 1968,
        "tags": ["fantasy", "classic"],
        "description": "",
    },
    "description",
    POST_BODY_BYTES,
)

DELETE_COUNT_JSON = _compact({"count": 1})

BLOB_REQUEST_JSON = _compact(
    {"_filename": "cover.png", "mimeType": "image/png", "size": 48213, "_public": False}
)

BLOB_METADATA_JSON = _compact(
    {
        "_id": "0b5e6a1c-4d2f-4f1e-9a7b-3c2d1e0f9a8b",
        "_filename": "cover.png",
        "mimeType": "image/png",
        "size": 48213,
        "_public": False,
        "_acl": {"creator": "5f1b2c3d4e5f60718293a4b0"},
        "_kmd": _kmd("2026-11-28T10:00:00.000Z"),
        "_uploadURL": "https://storage.example.invalid/kid_bench/0b5e6a1c/cover.png?sig=abc123",
        "_expiresAt": "2026-11-28T11:00:00.000Z",
        "_requiredHeaders": {},
    }
)

UPLOAD_DONE_JSON = _compact({"_id": "0b5e6a1c", "size": BIG_BODY_BYTES, "stored": True})

MISSING_CONTENT_TYPE_JSON = _compact(
    {
        "error": "MissingRequestHeader",
        "description": "The request is missing a required header",
        "debug": "X-Kinvey-Content-Type",
    }
)

NOT_FOUND_JSON = _compact(
    {"error": "EntityNotFound", "description": "This entity not found in the collection"}
)
