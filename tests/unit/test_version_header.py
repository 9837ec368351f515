from __future__ import annotations

import pytest

from gateway.kinvey.version_header import VersionRefused, parse_version


def test_missing_header_takes_the_default() -> None:
    assert parse_version(None, default=3) == 3


@pytest.mark.parametrize("raw", ["0", "6", " 4 ", "006"])
def test_whole_numbers_in_range(raw: str) -> None:
    assert parse_version(raw, default=6) == int(raw)


@pytest.mark.parametrize(
    ("raw", "echo"),
    [
        ("7", 7),
        ("abc", None),
        ("1.5", None),
        ("", None),
        ("-2", -2),  # numeric: echoed even though refused (§1, issue 14)
        ("1e3", None),
        ("99999", None),
        ("\u0663", None),
    ],
)
def test_refused_values(raw: str, echo: int | None) -> None:
    refused = parse_version(raw, default=6)
    assert isinstance(refused, VersionRefused)
    assert refused.error.name == "APIVersionNotAvailable"
    assert refused.error.status_code == 400
    assert refused.echo == echo


def test_below_the_apps_minimum_is_refused_and_echoed() -> None:
    refused = parse_version("1", default=6, minimum=3)
    assert isinstance(refused, VersionRefused) and refused.echo == 1
    assert "oldest served is 3" in refused.error.debug
