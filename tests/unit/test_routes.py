"""The route table classifies real Kinvey paths, SDK quirks included."""

from __future__ import annotations

import pytest

from gateway.kinvey.routes import KNOWN_ROUTES, match


@pytest.mark.parametrize(
    ("path", "name", "app", "collection", "entity"),
    [
        ("/appdata/", "appdata.handshake", None, None, None),
        ("/appdata/kid_a", "appdata.handshake", "kid_a", None, None),
        ("/appdata/kid_a/", "appdata.handshake", "kid_a", None, None),
        ("/appdata/kid_a/books", "appdata.collection", "kid_a", "books", None),
        ("/appdata/kid_a/books/?_=123&query=%7B%7D", "appdata.collection", "kid_a", "books", None),
        ("/appdata/kid_a/books/_count", "appdata.count", "kid_a", "books", None),
        ("/appdata/kid_a/books/_group", "appdata.group", "kid_a", "books", None),
        ("/appdata/kid_a/books/_deltaset?since=1", "appdata.deltaset", "kid_a", "books", None),
        ("/appdata/kid_a/books/b%2F1", "appdata.entity", "kid_a", "books", "b/1"),
        ("/appdata/kid_a/books/b1/", "appdata.entity", "kid_a", "books", "b1"),
        ("/user/kid_a", "user.collection", "kid_a", None, None),
        ("/user/kid_a/", "user.collection", "kid_a", None, None),
        ("/user/kid_a/login", "user.login", "kid_a", None, None),
        ("/user/kid_a/_logout", "user.logout", "kid_a", None, None),
        ("/user/kid_a/_me", "user.me", "kid_a", None, None),
        ("/user/kid_a/_lookup", "user.action", "kid_a", None, None),
        ("/user/kid_a/mfa/challenge", "user.mfa", "kid_a", None, None),
        ("/user/kid_a/u1/authenticators/a1", "user.mfa", "kid_a", None, "u1"),
        ("/user/kid_a/u1/recovery-codes", "user.mfa", "kid_a", None, "u1"),
        ("/user/kid_a/u1/_restore", "user.restore", "kid_a", None, "u1"),
        ("/user/kid_a/u1", "user.entity", "kid_a", None, "u1"),
        ("/blob/kid_a", "blob.collection", "kid_a", None, None),
        ("/blob/kid_a/f1", "blob.entity", "kid_a", None, "f1"),
        ("/blob/kid_a/upload-loc/pic.png", "blob.upload_loc", "kid_a", None, "pic.png"),
        ("/blob/kid_a/download-loc/pic%20x.png", "blob.download_loc", "kid_a", None, "pic x.png"),
        ("/blob/kid_a/remove-loc/pic.png", "blob.remove_loc", "kid_a", None, "pic.png"),
        ("/rpc/kid_a/custom/doIt", "rpc.custom", "kid_a", None, "doIt"),
        ("/rpc/kid_a/u/user-password-reset-initiate", "rpc.other", "kid_a", None, None),
        ("/push/kid_a/register-device", "push", "kid_a", None, None),
        ("/_gateway/files/abc", "gateway.file", None, None, None),
        ("/", "other", None, None, None),
        ("/nope/x", "other", None, None, None),
        ("/appdata/kid_a/a/b/c/d", "other", "kid_a", None, None),
    ],
)
def test_route_table(
    path: str, name: str, app: str | None, collection: str | None, entity: str | None
) -> None:
    route = match(path)
    assert (route.name, route.app_key, route.collection, route.entity_id) == (
        name,
        app,
        collection,
        entity,
    )
    assert route.name in KNOWN_ROUTES
