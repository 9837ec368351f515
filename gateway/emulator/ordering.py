"""Sorting (``sort={"f": 1|-1}``) and field selection (``fields=a,b.c``), Mongo-style."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from gateway.emulator.query import (
    MISSING,
    Document,
    QuerySyntaxError,
    lookup,
    parse_json_object,
)


def parse_sort(raw: str | None) -> list[tuple[str, int]]:
    spec = parse_json_object(raw, "sort")
    keys: list[tuple[str, int]] = []
    for field, direction in spec.items():
        if isinstance(direction, bool) or direction not in (1, -1):
            raise QuerySyntaxError(f"Sort direction of {field!r} must be 1 or -1")
        keys.append((field, int(direction)))
    return keys


def _type_rank(value: Any) -> int:
    # Mongo's order of types: missing/null < numbers < strings < objects < arrays < booleans.
    if value is MISSING or value is None:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, (int, float)):
        return 1
    if isinstance(value, str):
        return 2
    if isinstance(value, dict):
        return 3
    return 4


def _sort_key(value: Any) -> tuple[int, Any]:
    rank = _type_rank(value)
    if rank in (1, 2, 5):
        return (rank, value)
    if rank in (3, 4):
        return (rank, json.dumps(value, sort_keys=True))
    return (rank, 0)


def sort_documents(docs: Iterable[Document], keys: Sequence[tuple[str, int]]) -> list[Document]:
    result = list(docs)
    for field, direction in reversed(keys):  # stable sorts, least significant key first
        result.sort(key=lambda doc: _sort_key(lookup(doc, field)), reverse=direction < 0)
    return result


def parse_fields(raw: str | None) -> list[str] | None:
    if raw is None or not raw.strip():
        return None
    return [field.strip() for field in raw.split(",") if field.strip()]


def project(doc: Document, fields: Sequence[str] | None) -> Document:
    """Only the named (possibly dotted) fields, always with ``_id``."""
    if fields is None:
        return doc
    result: Document = {}
    if "_id" in doc:
        result["_id"] = doc["_id"]
    for field in fields:
        value = lookup(doc, field)
        if value is MISSING:
            continue
        target = result
        *parents, leaf = field.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return result
