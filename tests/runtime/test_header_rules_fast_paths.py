"""Header rules' fast paths drop exactly what the slow path would."""

from __future__ import annotations

from multidict import CIMultiDict

from gateway.http.headers import client_response_headers


def test_a_second_connection_header_still_names_headers_to_drop() -> None:
    incoming = CIMultiDict(
        [("Connection", "keep-alive"), ("Connection", "X-Private"), ("X-Private", "1"), ("A", "b")]
    )
    assert list(client_response_headers(incoming).items()) == [("A", "b")]


def test_hop_by_hop_names_are_dropped_in_any_spelling() -> None:
    incoming = CIMultiDict(
        [("proxy-connection", "x"), ("KEEP-ALIVE", "5"), ("transfer-encoding", "chunk"), ("A", "b")]
    )
    assert list(client_response_headers(incoming).items()) == [("A", "b")]


def test_a_plain_connection_value_keeps_everything_else_in_order() -> None:
    incoming = CIMultiDict(
        [("Set-Cookie", "a=1"), ("Connection", "Keep-Alive"), ("Set-Cookie", "b=2"), ("C", "d")]
    )
    assert list(client_response_headers(incoming).items()) == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("C", "d"),
    ]
