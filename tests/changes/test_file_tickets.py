"""gateway.kinvey.file_tickets: what the gateway seals into /_gateway/files URLs."""

from __future__ import annotations

import pytest

from gateway.kinvey.file_tickets import (
    RemovalTicket,
    TicketTooLarge,
    UploadTicket,
    redeem,
    removal_url,
    token_of,
    upload_url,
)
from gateway.kinvey.signing import SignatureRefused, UrlSigner

SIGNER = UrlSigner(b"tickets-secret", 60)


def test_tickets_round_trip_through_their_urls() -> None:
    upload = UploadTicket("kid", "a/b c.png", "https://s.example/u?sig=1", {"x-goog-acl": "p"}, 1)
    removal = RemovalTicket("kid", "a.png", "/blob/kid/a.png", 0)
    base = "https://gw.example/base/"
    upload_link = upload_url(SIGNER, base, upload)
    removal_link = removal_url(SIGNER, base, removal)
    for link in (upload_link, removal_link):
        assert link.startswith("https://gw.example/base/_gateway/files/")
    assert redeem(SIGNER, token_of(upload_link[len(base) - 1 :]), "PUT") == upload
    assert redeem(SIGNER, token_of(removal_link[len(base) - 1 :]), "DELETE") == removal


@pytest.mark.parametrize(
    ("raw_path", "token"),
    [
        ("/_gateway/files/abc", "abc"),
        ("/_gateway/files/abc/", "abc"),
        ("/_gateway/files/abc?x=1", "abc"),
        ("/_gateway/files/", ""),
        ("/_gateway/other/abc", ""),
    ],
)
def test_the_token_is_the_last_path_segment(raw_path: str, token: str) -> None:
    assert token_of(raw_path) == token


def test_an_authentic_token_that_is_no_file_ticket_is_refused() -> None:
    for target, data in (
        ("other:kid/a", {"app": "kid", "name": "a", "v": 0}),
        ("upload:kid/a", {"app": "kid", "name": "a"}),
        ("remove:kid/a", {"app": "kid", "name": "a", "path": "", "v": 0}),
    ):
        token = SIGNER.seal("PUT", target, data)
        with pytest.raises(SignatureRefused):
            redeem(SIGNER, token, "PUT")


def test_a_storage_url_too_long_to_come_back_is_refused_when_issued() -> None:
    ticket = UploadTicket("kid", "a", "https://s.example/" + "x" * 20000, {}, 2)
    with pytest.raises(TicketTooLarge):
        upload_url(SIGNER, "https://gw.example", ticket)
