"""The two file actions the gateway seals into ``/_gateway/files/<token>`` URLs for old clients.

- an **upload ticket** (``PUT``): the storage upload URL and the headers it requires, which a
  pre-v3 client cannot send; the gateway adds them and streams the client's bytes on;
- a **removal ticket** (``DELETE``): the file to delete with the Files API. The old API's
  remove URL needed no credentials and the client sends none; the ticket carries none either
  (a URL is logged, cached and shared far more than a header), so the gateway deletes with
  the app's own credentials from its config.

Neither holds anything the client did not hold in that URL's place under the old API (the
storage's own signed upload URL, a file name). Both are sealed with ``signing.UrlSigner``
(AES-GCM, bound to the method, expiring). Pure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gateway.kinvey.signing import MAX_TOKEN_CHARS, SealedAction, SignatureRefused, UrlSigner

GATEWAY_FILES_PATH = "/_gateway/files/"
_UPLOAD, _REMOVAL = "upload", "remove"


class StorageCheck:
    """Asks storage whether a file's download URL has content (the app wires in a probe).

    ``missing(url)`` is True only when storage says the object does not exist; the version
    changes reach it as a service and so never do the I/O themselves.
    """

    def __init__(self, missing: Callable[[str], Awaitable[bool]]) -> None:
        self.missing = missing


@dataclass(frozen=True, slots=True)
class UploadTicket:
    app_key: str
    name: str
    storage_url: str
    required_headers: dict[str, str]
    client_version: int


@dataclass(frozen=True, slots=True)
class RemovalTicket:
    app_key: str
    name: str
    upstream_path: str  # the Files API path, e.g. /blob/<appKey>/<name> as the client spelled it
    client_version: int


class TicketTooLarge(ValueError):
    """The sealed URL would be longer than the gateway accepts back."""


def upload_url(signer: UrlSigner, public_base_url: str, ticket: UploadTicket) -> str:
    data = {"url": ticket.storage_url, "headers": ticket.required_headers}
    return _url(signer, public_base_url, "PUT", _UPLOAD, ticket, data)


def removal_url(signer: UrlSigner, public_base_url: str, ticket: RemovalTicket) -> str:
    data = {"path": ticket.upstream_path}
    return _url(signer, public_base_url, "DELETE", _REMOVAL, ticket, data)


def _url(
    signer: UrlSigner,
    public_base_url: str,
    method: str,
    kind: str,
    ticket: UploadTicket | RemovalTicket,
    data: dict[str, Any],
) -> str:
    data = {**data, "app": ticket.app_key, "name": ticket.name, "v": ticket.client_version}
    token = signer.seal(method, f"{kind}:{ticket.app_key}/{ticket.name}", data)
    if len(token) > MAX_TOKEN_CHARS:
        raise TicketTooLarge(f"a {kind} URL would be {len(token)} characters long")
    return public_base_url.rstrip("/") + GATEWAY_FILES_PATH + token


def token_of(raw_path: str) -> str:
    """The token of a ``/_gateway/files/<token>`` request (query and one trailing slash off)."""
    path = raw_path.partition("?")[0]
    token = path[len(GATEWAY_FILES_PATH) :] if path.startswith(GATEWAY_FILES_PATH) else ""
    return token[:-1] if token.endswith("/") else token


def redeem(signer: UrlSigner, token: str, method: str) -> UploadTicket | RemovalTicket:
    """The ticket sealed in ``token`` for ``method``; ``SignatureRefused`` if there is none."""
    action = signer.open(token, method)
    kind = action.target.partition(":")[0]
    try:
        app_key, name = _str(action.data["app"]), _str(action.data["name"])
        if kind == _UPLOAD:
            return _upload_ticket(action, app_key, name)
        if kind == _REMOVAL:
            return _removal_ticket(action, app_key, name)
    except (KeyError, TypeError, ValueError):
        pass
    raise SignatureRefused("invalid")  # authentic but not a file ticket: not for this route


def _upload_ticket(action: SealedAction, app_key: str, name: str) -> UploadTicket:
    headers = action.data["headers"]
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise TypeError("required headers")
    return UploadTicket(app_key, name, _str(action.data["url"]), headers, _int(action.data["v"]))


def _removal_ticket(action: SealedAction, app_key: str, name: str) -> RemovalTicket:
    return RemovalTicket(app_key, name, _str(action.data["path"]), _int(action.data["v"]))


def _str(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("expected a non-empty string")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("expected an integer")
    return value
