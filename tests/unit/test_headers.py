from __future__ import annotations

from multidict import CIMultiDict

from gateway.http.headers import client_response_headers, upstream_request_headers


def test_request_headers_drop_hop_by_hop_and_connection_tokens() -> None:
    incoming = CIMultiDict(
        [
            ("Host", "gw"),
            ("Connection", "close, X-Private"),
            ("X-Private", "1"),
            ("Keep-Alive", "5"),
            ("Transfer-Encoding", "chunked"),
            ("Proxy-Authorization", "p"),
            ("Upgrade", "h2c"),
            ("TE", "trailers"),
            ("X-Kinvey-API-Version", "1"),
            ("Authorization", "Basic abc"),
            ("X-Forwarded-For", "10.0.0.9"),
            ("Accept", "a"),
            ("Accept", "b"),
        ]
    )
    out = upstream_request_headers(
        incoming,
        upstream_host="up:1",
        peer="127.0.0.1",
        scheme="https",
        original_host="gw",
        api_version=6,
    )
    assert out["Host"] == "up:1"
    assert out["X-Kinvey-API-Version"] == "6"
    assert out["X-Forwarded-For"] == "10.0.0.9, 127.0.0.1"
    assert out["X-Forwarded-Proto"] == "https"
    assert out["X-Forwarded-Host"] == "gw"
    assert out.getall("Accept") == ["a", "b"]
    assert out["Authorization"] == "Basic abc"
    for gone in (
        "Connection",
        "X-Private",
        "Keep-Alive",
        "Transfer-Encoding",
        "Proxy-Authorization",
        "Upgrade",
        "TE",
    ):
        assert gone not in out


def test_response_headers_keep_repeats_and_drop_hops() -> None:
    upstream = CIMultiDict(
        [
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("Connection", "X-Hop"),
            ("X-Hop", "v"),
            ("Content-Length", "3"),
            ("X-Kinvey-API-Version", "6"),
        ]
    )
    out = client_response_headers(upstream)
    assert out.getall("Set-Cookie") == ["a=1", "b=2"]
    assert "X-Hop" not in out and "Connection" not in out
    assert "X-Kinvey-API-Version" not in out
    assert out["Content-Length"] == "3"
