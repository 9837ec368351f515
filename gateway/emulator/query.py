"""A pure, Mongo-style query matcher for the emulator (sorting and fields: ordering.py).

Supported: field equality (with dotted paths and array membership), ``$eq $ne $gt $gte $lt
$lte $in $nin $all $size $exists $regex`` (with ``$options``), ``$not`` (of an operator object
or a regex), ``$and``, ``$or`` and ``$nor``. Anything else raises :class:`QuerySyntaxError`,
which the handlers answer with ``InvalidQuerySyntax``.
"""

from __future__ import annotations

import json
import re
from typing import Any

Document = dict[str, Any]

MISSING = object()  # a field the document does not have


class QuerySyntaxError(ValueError):
    """The query, sort or fields parameter cannot be understood."""


def parse_json_object(raw: str | None, what: str) -> Document:
    """``query=`` / ``sort=`` text → a dict; absent or empty means ``{}``."""
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise QuerySyntaxError(f"The {what} parameter is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise QuerySyntaxError(f"The {what} parameter must be a JSON object")
    return value


_FIELD_OPERATORS = frozenset(
    {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$all", "$size", "$exists"}
    | {"$regex", "$options", "$not"}
)
_ARRAY_OPERANDS = ("$in", "$nin", "$all")


def validate_query(query: Document) -> None:
    """Refuse an unusable query up front, as the server does even on an empty collection."""
    for key, condition in query.items():
        if key in ("$and", "$or", "$nor"):
            for sub in _subqueries(key, condition):
                validate_query(sub)
        elif key.startswith("$"):
            raise QuerySyntaxError(f"Unknown top-level query operator {key}")
        elif _is_operator_object(condition):
            _validate_operators(condition)


def _validate_operators(condition: Document) -> None:
    for operator, operand in condition.items():
        if operator not in _FIELD_OPERATORS:
            raise QuerySyntaxError(f"Unknown query operator {operator}")
        if operator in _ARRAY_OPERANDS and not isinstance(operand, list):
            raise QuerySyntaxError(f"{operator} needs an array")
        if operator == "$size" and (isinstance(operand, bool) or not isinstance(operand, int)):
            raise QuerySyntaxError("$size needs a whole number")
        if operator == "$not" and not (_is_operator_object(operand) or isinstance(operand, str)):
            raise QuerySyntaxError("$not needs an operator object or a regular expression")
        if operator == "$not" and isinstance(operand, dict):
            _validate_operators(operand)
    if "$regex" in condition:
        _compile_regex(condition["$regex"], condition.get("$options", ""))


def matches(doc: Document, query: Document) -> bool:
    for key, condition in query.items():
        if key == "$and":
            if not all(matches(doc, sub) for sub in _subqueries(key, condition)):
                return False
        elif key == "$or":
            if not any(matches(doc, sub) for sub in _subqueries(key, condition)):
                return False
        elif key == "$nor":
            if any(matches(doc, sub) for sub in _subqueries(key, condition)):
                return False
        elif key.startswith("$"):
            raise QuerySyntaxError(f"Unknown top-level query operator {key}")
        elif not _field_matches(lookup(doc, key), condition):
            return False
    return True


def _subqueries(operator: str, condition: Any) -> list[Document]:
    if not isinstance(condition, list) or not condition:
        raise QuerySyntaxError(f"{operator} needs a non-empty array of queries")
    if not all(isinstance(sub, dict) for sub in condition):
        raise QuerySyntaxError(f"{operator} needs an array of query objects")
    return condition


def lookup(doc: Any, path: str) -> Any:
    value = doc
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def _is_operator_object(condition: Any) -> bool:
    return (
        isinstance(condition, dict)
        and bool(condition)
        and all(isinstance(key, str) and key.startswith("$") for key in condition)
    )


def _field_matches(value: Any, condition: Any) -> bool:
    if not _is_operator_object(condition):
        return _equals_or_contains(value, condition)
    _validate_operators(condition)
    options = condition.get("$options", "")
    for operator, operand in condition.items():
        if operator == "$options":
            continue
        if not _operator_matches(value, operator, operand, options):
            return False
    return True


def _operator_matches(value: Any, operator: str, operand: Any, options: Any) -> bool:
    if operator == "$eq":
        return _equals_or_contains(value, operand)
    if operator == "$ne":
        return not _equals_or_contains(value, operand)
    if operator in _ARRAY_OPERANDS:
        if operator == "$all":  # Mongo: an empty $all matches nothing
            return bool(operand) and all(_equals_or_contains(value, item) for item in operand)
        found = any(_equals_or_contains(value, item) for item in operand)
        return found if operator == "$in" else not found
    if operator == "$size":
        return isinstance(value, list) and _same(len(value), operand)
    if operator == "$not":
        # A regular expression given as a string, or any operator object; a missing field
        # matches (Mongo), as it does not satisfy the inner condition.
        inner = {"$regex": operand} if isinstance(operand, str) else operand
        return not _field_matches(value, inner)
    if operator == "$exists":
        return (value is not MISSING) == bool(operand)
    if operator in ("$gt", "$gte", "$lt", "$lte"):
        return any(_compare(candidate, operator, operand) for candidate in _candidates(value))
    if operator == "$regex":
        pattern = _compile_regex(operand, options)
        return any(
            isinstance(candidate, str) and pattern.search(candidate) is not None
            for candidate in _candidates(value)
        )
    raise QuerySyntaxError(f"Unknown query operator {operator}")


def _candidates(value: Any) -> list[Any]:
    """The values a field condition is tried against: the value, and each element of an array."""
    if value is MISSING:
        return []
    if isinstance(value, list):
        return [value, *value]
    return [value]


def _equals_or_contains(value: Any, operand: Any) -> bool:
    if value is MISSING:
        return operand is None  # Mongo: {"f": null} matches a missing field
    return any(_same(candidate, operand) for candidate in _candidates(value))


def _same(left: Any, right: Any) -> bool:
    # JSON true is not 1 (Python says it is).
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    return bool(left == right)


def _comparable(left: Any, right: Any) -> bool:
    numbers = (int, float)
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    if isinstance(left, numbers) and isinstance(right, numbers):
        return True
    return isinstance(left, str) and isinstance(right, str)


def _compare(left: Any, operator: str, right: Any) -> bool:
    if not _comparable(left, right):
        return False
    if operator == "$gt":
        return bool(left > right)
    if operator == "$gte":
        return bool(left >= right)
    if operator == "$lt":
        return bool(left < right)
    return bool(left <= right)


def _compile_regex(operand: Any, options: Any) -> re.Pattern[str]:
    if not isinstance(operand, str) or not isinstance(options, str):
        raise QuerySyntaxError("$regex needs a string pattern and string $options")
    flags = 0
    for option in options:
        if option == "i":
            flags |= re.IGNORECASE
        elif option == "m":
            flags |= re.MULTILINE
        elif option == "s":
            flags |= re.DOTALL
        elif option == "x":
            flags |= re.VERBOSE
        else:
            raise QuerySyntaxError(f"Unknown $regex option {option!r}")
    try:
        return re.compile(operand, flags)
    except re.error as exc:
        raise QuerySyntaxError(f"Invalid $regex: {exc}") from None
