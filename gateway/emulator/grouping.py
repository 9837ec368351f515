"""``_group`` aggregations: Kinvey's (MongoDB ``group``) key, initial, reduce and condition.

Kinvey runs ``reduce`` as JavaScript; the emulator runs no JavaScript, so it understands the
reduce functions the SDKs generate (``Kinvey.Group``/``Aggregation`` count, sum, min, max and
average) and any function made of those statements, one per ``;``:

- ``out.n++``, ``out.n += 1``, ``out.n = out.n + 1``                       (count)
- ``out.s += doc.f`` (or ``doc["f"]``)                                        (sum)
- ``out.m = Math.min(out.m, doc.f)`` / ``Math.max``                           (min / max)
- ``out.a = (out.a * out.c + doc.f) / (out.c + 1)``                           (running average)

and an optional ``return out``. Fields that are not numbers are skipped by sum/min/max/average
(where JavaScript would make them NaN); a ``null`` start value of min/max (the SDKs send
``Infinity``, which JSON turns into ``null``) means "no value yet". Anything else raises
:class:`GroupSyntaxError`. The answer is one object per distinct key, in order of first
appearance: the key fields (missing ones as ``null``) and the reduced state.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gateway.emulator.query import MISSING, Document, lookup

_FUNCTION = re.compile(r"\s*function\s*\w*\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)\s*\{(.*)\}\s*", re.DOTALL)
_FIELD = r"""(?:DOC\.([\w$.]+)|DOC\[\s*["']([^"']+)["']\s*\])"""
_OUT = r"OUT\.(\w+)"


class GroupSyntaxError(ValueError):
    """The ``_group`` body cannot be understood."""


Step = Callable[[Document, Document], None]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _count(name: str) -> Step:
    def step(doc: Document, out: Document) -> None:
        out[name] = (out.get(name) or 0) + 1

    return step


def _sum(name: str, field: str) -> Step:
    def step(doc: Document, out: Document) -> None:
        value = lookup(doc, field)
        if _number(value):
            out[name] = (out.get(name) or 0) + value

    return step


def _extreme(name: str, field: str, pick: Callable[[float, float], float]) -> Step:
    def step(doc: Document, out: Document) -> None:
        value = lookup(doc, field)
        if _number(value):
            current = out.get(name)
            out[name] = pick(current, value) if isinstance(current, (int, float)) else value

    return step


def _average(name: str, counter: str, field: str) -> Step:
    def step(doc: Document, out: Document) -> None:
        value = lookup(doc, field)
        if _number(value):
            seen = out.get(counter) or 0
            out[name] = ((out.get(name) or 0) * seen + value) / (seen + 1)

    return step


@dataclass(frozen=True)
class _Pattern:
    regex: str
    build: Callable[[list[str]], Step]


def _field_of(groups: list[str], first: int) -> str:
    return groups[first] or groups[first + 1]


_PATTERNS = (
    _Pattern(rf"(?:{_OUT}\s*\+\+|\+\+\s*{_OUT})", lambda g: _count(g[0] or g[1])),
    _Pattern(rf"{_OUT}\s*\+=\s*1", lambda g: _count(g[0])),
    _Pattern(rf"{_OUT}\s*=\s*OUT\.(\w+)\s*\+\s*1", lambda g: _count(g[0])),
    _Pattern(rf"{_OUT}\s*\+=\s*{_FIELD}", lambda g: _sum(g[0], _field_of(g, 1))),
    _Pattern(
        rf"{_OUT}\s*=\s*Math\.min\(\s*OUT\.\w+\s*,\s*{_FIELD}\s*\)",
        lambda g: _extreme(g[0], _field_of(g, 1), min),
    ),
    _Pattern(
        rf"{_OUT}\s*=\s*Math\.max\(\s*OUT\.\w+\s*,\s*{_FIELD}\s*\)",
        lambda g: _extreme(g[0], _field_of(g, 1), max),
    ),
    _Pattern(
        rf"{_OUT}\s*=\s*\(\s*OUT\.\w+\s*\*\s*OUT\.(\w+)\s*\+\s*{_FIELD}\s*\)\s*/\s*"
        rf"\(\s*OUT\.\w+\s*\+\s*1\s*\)",
        lambda g: _average(g[0], g[1], _field_of(g, 2)),
    ),
)


def parse_reduce(source: Any) -> list[Step]:
    """The steps of a reduce function (see the module docstring for what is understood)."""
    if not isinstance(source, str):
        raise GroupSyntaxError("reduce must be a JavaScript function given as a string")
    function = _FUNCTION.fullmatch(source)
    if function is None:
        raise GroupSyntaxError("reduce must look like function (doc, out) { ... }")
    doc_name, out_name, body = function.groups()
    steps: list[Step] = []
    for statement in re.split(r"[;\n]", body):
        text = statement.strip()
        if not text or re.fullmatch(rf"return\s+{out_name}", text):
            continue
        steps.append(_parse_statement(text, doc_name, out_name))
    return steps


def _parse_statement(text: str, doc_name: str, out_name: str) -> Step:
    for pattern in _PATTERNS:
        regex = pattern.regex.replace("DOC", re.escape(doc_name)).replace(
            "OUT", re.escape(out_name)
        )
        found = re.fullmatch(regex, text)
        if found is not None:
            return pattern.build([group or "" for group in found.groups()])
    raise GroupSyntaxError(f"The emulator cannot run this reduce statement: {text!r}")


def _key_fields(key: Any) -> list[str]:
    if not isinstance(key, dict) or not all(isinstance(name, str) for name in key):
        raise GroupSyntaxError('key must be an object of field names, e.g. {"city": true}')
    return [name for name, wanted in key.items() if wanted]


def group(docs: Iterable[Document], key: Any, initial: Any, reduce: Any) -> list[Document]:
    """The grouped answer over ``docs`` (already filtered by ``condition``)."""
    fields = _key_fields(key)
    if not isinstance(initial, dict):
        raise GroupSyntaxError("initial must be an object")
    steps = parse_reduce(reduce)
    groups: dict[str, Document] = {}
    for doc in docs:
        values = {field: lookup(doc, field) for field in fields}
        shown = {field: None if value is MISSING else value for field, value in values.items()}
        identity = json.dumps(shown, sort_keys=True)
        if identity not in groups:
            groups[identity] = {**shown, **copy.deepcopy(initial)}
        for step in steps:
            step(doc, groups[identity])
    return list(groups.values())
