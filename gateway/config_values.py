"""Casters for config values: each turns a raw YAML/env/CLI value into a typed one or raises.

A caster raises ``ValueError`` with a short reason; the loader adds the key's name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from yarl import URL

from gateway.kinvey.client_identity import parse_app_release, release_number


def _text(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(f"expected a string, got {type(raw).__name__}")
    return str(raw)


def as_optional_str(raw: Any) -> str | None:
    return None if raw is None else _text(raw)


def as_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(raw, str) and raw.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _number(raw: Any, kind: type[int] | type[float]) -> int | float:
    if isinstance(raw, bool):
        raise ValueError(f"expected a number, got {raw!r}")
    try:
        value = kind(raw) if not isinstance(raw, str) else kind(raw.strip())
    except (TypeError, ValueError):
        kind_name = "an integer" if kind is int else "a number"
        raise ValueError(f"expected {kind_name}, got {raw!r}") from None
    if kind is int and isinstance(raw, float) and raw != int(raw):
        raise ValueError(f"expected an integer, got {raw!r}")
    return value


def as_int(low: int, high: int) -> Callable[[Any], int]:
    def cast(raw: Any) -> int:
        value = int(_number(raw, int))
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range {low}..{high}")
        return value

    return cast


def as_optional_version(raw: Any) -> int | None:
    """An API version number; the loader checks it against the versions the gateway knows."""
    return None if raw is None else int(_number(raw, int))


def as_optional_release(raw: Any) -> str | None:
    """An app release, normalized like the header (``"2.4"`` becomes ``"2.4.0"``)."""
    if raw is None:
        return None
    release = parse_app_release(_text(raw))
    if release_number(release) is None:
        raise ValueError(f"expected a release like 2.4.0, got {raw!r}")
    return release


def as_positive_float(raw: Any) -> float:
    value = float(_number(raw, float))
    if value <= 0:
        raise ValueError(f"must be greater than 0, got {value}")
    return value


def as_choice(*choices: str) -> Callable[[Any], str]:
    def cast(raw: Any) -> str:
        value = _text(raw).lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {raw!r}")
        return value

    return cast


def as_tls_version(raw: Any) -> str:
    return as_choice("1.2", "1.3")(str(raw))


def as_address(raw: Any) -> str:
    text = _text(raw)
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return text


def as_url(raw: Any) -> str:
    text = _text(raw).rstrip("/")
    url = URL(text)
    if url.scheme not in {"http", "https"} or not url.host:
        raise ValueError(f"expected an http:// or https:// URL, got {text!r}")
    if url.query_string or url.fragment:
        raise ValueError(f"a base URL takes no query or fragment, got {text!r}")
    return text


def as_optional_url(raw: Any) -> str | None:
    return None if raw is None else as_url(raw)


def as_optional_path(raw: Any) -> str | None:
    return None if raw is None or raw == "" else _text(raw)


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def as_ratio(raw: Any) -> float:
    value = float(_number(raw, float))
    if not 0 <= value <= 1:
        raise ValueError(f"expected a ratio from 0 to 1, got {value}")
    return value


def as_name_list(allowed: frozenset[str]) -> Callable[[Any], str]:
    """Names from ``allowed``, comma-separated (or a YAML list); kept as one sorted string so
    that it prints, documents and compares like every other scalar setting."""

    def cast(raw: Any) -> str:
        items = raw if isinstance(raw, list) else _text(raw).split(",")
        names = {_text(item).strip() for item in items} - {""}
        unknown = sorted(names - allowed)
        if unknown:
            choices = ", ".join(sorted(allowed))
            raise ValueError(f"{', '.join(unknown)} not allowed; choose from {choices}")
        return ",".join(sorted(names))

    return cast
