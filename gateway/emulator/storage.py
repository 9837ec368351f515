"""The emulated cloud storage (GCS-like) behind the file APIs, served under ``/_storage/<token>``.

Each URL is an unguessable token bound to one file, one purpose and an expiry; it needs no
Kinvey credentials. Upload URLs take one plain ``PUT`` of the whole body or the resumable
protocol (``Content-Range: bytes */N`` probes answered ``308`` with ``Range``, then ranged
PUTs). Headers a ticket requires (``_requiredHeaders``) must come with every PUT that carries
bytes, else ``403`` as GCS answers a signed URL used without them.
"""

from __future__ import annotations

import re
import time
from xml.sax.saxutils import escape

from aiohttp import web

from gateway.emulator.routing import Call
from gateway.emulator.store import EmulatorStore, StorageTicket, TicketPurpose, iso_time

STORAGE_PREFIX = "/_storage/"
UPLOAD_URL_SECONDS = 3600
DOWNLOAD_URL_SECONDS = 3600
OCTET_STREAM = "application/octet-stream"

_CHUNK_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_STATUS_RANGE = re.compile(r"bytes \*/(\d+|\*)")


def storage_base(call: Call) -> str:
    if call.config.public_base_url:
        return call.config.public_base_url.rstrip("/")
    return f"{call.request.scheme}://{call.request.host}"


def issue_url(
    call: Call,
    file_id: str,
    purpose: TicketPurpose,
    seconds: float,
    *,
    required_headers: dict[str, str] | None = None,
    content_type: str | None = None,
) -> tuple[str, str]:
    """A fresh storage URL and its expiry (ISO time)."""
    expires_at = time.time() + seconds
    ticket = StorageTicket(
        file_id=file_id,
        purpose=purpose,
        expires_at=expires_at,
        required_headers=dict(required_headers or {}),
        content_type=content_type,
    )
    token = call.store.issue_ticket(ticket)
    return f"{storage_base(call)}{STORAGE_PREFIX}{token}", iso_time(expires_at)


def _storage_error(status: int, code: str, message: str) -> web.Response:
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    )
    return web.Response(status=status, text=body, content_type="application/xml")


async def handle_storage(request: web.Request, store: EmulatorStore) -> web.StreamResponse:
    token = request.path[len(STORAGE_PREFIX) :].rstrip("/")
    ticket = store.ticket(token)
    if ticket is None:
        return _storage_error(403, "AccessDenied", "This storage URL is unknown or expired")
    method = request.method
    if ticket.purpose == "upload" and method == "PUT":
        return await _upload(request, store, ticket)
    if ticket.purpose == "download" and method in ("GET", "HEAD"):
        return _download(store, ticket)
    if ticket.purpose == "delete" and method == "DELETE":
        store.remove_file(ticket.file_id)
        return web.Response(status=204)
    return _storage_error(
        403, "SignatureDoesNotMatch", f"This URL is not valid for {method} requests"
    )


def _download(store: EmulatorStore, ticket: StorageTicket) -> web.StreamResponse:
    record = store.files.get(ticket.file_id)
    if record is None or record.content is None:
        return _storage_error(404, "NoSuchKey", "The file has no uploaded content")
    return web.Response(body=record.content, headers={"Content-Type": record.content_type})


def _missing_required_header(request: web.Request, ticket: StorageTicket) -> str | None:
    for name, value in ticket.required_headers.items():
        if request.headers.get(name) != value:
            return name
    return None


def _resume_incomplete(ticket: StorageTicket) -> web.Response:
    headers = {}
    if ticket.received:
        headers["Range"] = f"bytes=0-{len(ticket.received) - 1}"
    return web.Response(status=308, headers=headers)


def _commit(request: web.Request, store: EmulatorStore, ticket: StorageTicket) -> web.Response:
    record = store.files.get(ticket.file_id)
    if record is None:
        return _storage_error(404, "NoSuchKey", "The file was deleted during the upload")
    record.content = bytes(ticket.received)
    record.content_type = ticket.content_type or request.headers.get("Content-Type") or OCTET_STREAM
    record.meta["size"] = len(record.content)
    ticket.complete = True
    return web.Response(status=200)


async def _upload(
    request: web.Request, store: EmulatorStore, ticket: StorageTicket
) -> web.StreamResponse:
    body = await request.content.read()
    content_range = request.headers.get("Content-Range")
    status_query = _STATUS_RANGE.fullmatch(content_range.strip()) if content_range else None
    if status_query is not None:
        if body:
            return _storage_error(400, "InvalidArgument", "A status query has no body")
        total = status_query.group(1)
        if ticket.complete or (total != "*" and len(ticket.received) == int(total) == 0):
            return _commit(request, store, ticket) if not ticket.complete else web.Response()
        return _resume_incomplete(ticket)
    missing = _missing_required_header(request, ticket)
    if missing is not None:
        return _storage_error(403, "AccessDenied", f"The upload must carry the {missing} header")
    if content_range is None:  # one plain PUT of the whole file
        ticket.received = bytearray(body)
        return _commit(request, store, ticket)
    chunk = _CHUNK_RANGE.fullmatch(content_range.strip())
    if chunk is None:
        return _storage_error(400, "InvalidArgument", f"Bad Content-Range {content_range!r}")
    first, last, total = int(chunk.group(1)), int(chunk.group(2)), chunk.group(3)
    if last < first or len(body) != last - first + 1 or first > len(ticket.received):
        return _storage_error(400, "InvalidArgument", "The chunk does not fit the upload")
    del ticket.received[first:]
    ticket.received.extend(body)
    ticket.complete = False
    if total != "*" and len(ticket.received) >= int(total):
        if len(ticket.received) != int(total):
            return _storage_error(400, "InvalidArgument", "More bytes than the declared size")
        return _commit(request, store, ticket)
    return _resume_incomplete(ticket)
