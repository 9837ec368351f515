"""The pure version decisions of the emulator (versions.py)."""

import pytest

from gateway.emulator import EmulatorConfig
from gateway.emulator import versions as v
from gateway.emulator.versions import VersionRefused, resolve_api_version


def test_missing_header_takes_the_default() -> None:
    assert resolve_api_version(None, EmulatorConfig(default_api_version=4)) == 4


@pytest.mark.parametrize("raw, expected", [("0", 0), (" 3 ", 3), ("6", 6)])
def test_whole_numbers_in_range_are_served(raw: str, expected: int) -> None:
    assert resolve_api_version(raw, EmulatorConfig()) == expected


@pytest.mark.parametrize("raw", ["", "abc", "3.0", "+3", "٣", "1e1", "0x3"])
def test_non_numbers_are_refused_without_echo(raw: str) -> None:
    refused = resolve_api_version(raw, EmulatorConfig())
    assert isinstance(refused, VersionRefused)
    assert refused.error.name == "APIVersionNotAvailable" and refused.echo is None


@pytest.mark.parametrize("raw, echo", [("2", 2), ("6", 6), ("7", 7), ("-1", -1)])
def test_numbers_outside_the_range_are_refused_with_echo(raw: str, echo: int) -> None:
    config = EmulatorConfig(min_api_version=3, max_api_version=5, default_api_version=5)
    refused = resolve_api_version(raw, config)
    assert isinstance(refused, VersionRefused) and refused.echo == echo


@pytest.mark.parametrize(
    "version, soft, hard, mode",
    [
        (0, False, False, "hard"),
        (0, True, False, "hard"),  # v0 knows no soft delete
        (1, False, False, "hard"),
        (1, True, False, "soft"),
        (1, False, True, "hard"),  # v1 ignores hard=true: plain is already hard
        (2, False, False, "soft"),
        (2, False, True, "hard"),
        (2, True, False, "soft"),
        (6, False, False, "soft"),
        (6, False, True, "hard"),
    ],
)
def test_user_delete_mode_matrix(version: int, soft: bool, hard: bool, mode: str) -> None:
    assert v.user_delete_mode(version, soft, hard) == mode


def test_each_change_flips_at_its_version() -> None:
    assert [v.has_sessions(n) for n in (0, 1)] == [False, True]
    assert [v.delete_returns_count(n) for n in (1, 2)] == [False, True]
    assert [v.download_loc_redirects(n) for n in (1, 2)] == [True, False]
    assert [v.has_new_files_api(n) for n in (2, 3)] == [False, True]
    assert [v.refuses_oversized_results(n) for n in (3, 4)] == [False, True]
    assert [v.oauth_refresh_error_status(n) for n in (3, 4)] == [500, 401]
    assert [v.requires_content_type_header(n) for n in (3, 4)] == [False, True]
    assert [v.has_multi_insert(n) for n in (4, 5)] == [False, True]
    assert [v.signup_returns_token(n) for n in (0, 1, 5, 6)] == [False, True, True, False]
    assert [v.wraps_login(n) for n in (5, 6)] == [False, True]
    assert [v.has_mfa(n) for n in (5, 6)] == [False, True]
    assert [v.accepts_user_basic(n) for n in (5, 6)] == [True, False]


@pytest.mark.parametrize(
    "fields",
    [
        {"min_api_version": 4, "max_api_version": 3},
        {"max_api_version": 7},
        {"min_api_version": 3, "default_api_version": 2},
        {"result_set_limit": 0},
        {"app_secret": "same", "master_secret": "same"},
    ],
)
def test_inconsistent_configs_are_rejected(fields: dict[str, int | str]) -> None:
    with pytest.raises(ValueError):
        EmulatorConfig(**fields)  # type: ignore[arg-type]
