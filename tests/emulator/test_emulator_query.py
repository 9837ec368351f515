"""The pure Mongo-style query engine (query.py)."""

from typing import Any

import pytest

from gateway.emulator.ordering import parse_fields, parse_sort, project, sort_documents
from gateway.emulator.query import QuerySyntaxError, matches, parse_json_object, validate_query

DOCS: list[dict[str, Any]] = [
    {"_id": "a", "n": 1, "name": "Alice", "tags": ["x", "y"], "meta": {"age": 30}, "ok": True},
    {"_id": "b", "n": 2, "name": "bob", "tags": ["y"], "meta": {"age": 20}, "ok": False},
    {"_id": "c", "n": 3, "name": "Carol", "tags": [], "meta": {"age": 40}},
    {"_id": "d", "name": None},
]


def ids(query: dict[str, Any]) -> list[str]:
    return [doc["_id"] for doc in DOCS if matches(doc, query)]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, ["a", "b", "c", "d"]),
        ({"n": 2}, ["b"]),
        ({"tags": "y"}, ["a", "b"]),  # array membership
        ({"tags": ["y"]}, ["b"]),  # whole-array equality
        ({"meta.age": 40}, ["c"]),  # dotted path
        ({"n": {"$eq": 1}}, ["a"]),
        ({"n": {"$ne": 1}}, ["b", "c", "d"]),
        ({"n": {"$gt": 1}}, ["b", "c"]),
        ({"n": {"$gte": 2, "$lt": 3}}, ["b"]),
        ({"n": {"$lte": 1}}, ["a"]),
        ({"name": {"$gt": "Bz"}}, ["b", "c"]),  # strings compare with strings only
        ({"n": {"$in": [1, 3]}}, ["a", "c"]),
        ({"n": {"$nin": [1, 3]}}, ["b", "d"]),
        ({"tags": {"$in": ["x"]}}, ["a"]),
        ({"n": {"$exists": False}}, ["d"]),
        ({"meta": {"$exists": True}}, ["a", "b", "c"]),
        ({"name": {"$regex": "^[AB]"}}, ["a"]),
        ({"name": {"$regex": "^[ab]", "$options": "i"}}, ["a", "b"]),
        ({"name": None}, ["d"]),
        ({"missing": None}, ["a", "b", "c", "d"]),  # Mongo: null matches a missing field
        ({"ok": True}, ["a"]),
        ({"n": True}, []),  # true is not 1
        ({"$and": [{"n": {"$gte": 2}}, {"tags": "y"}]}, ["b"]),
        ({"$or": [{"n": 1}, {"name": "Carol"}]}, ["a", "c"]),
        ({"$nor": [{"n": 1}, {"n": 2}]}, ["c", "d"]),
        ({"tags": {"$all": ["x", "y"]}}, ["a"]),
        ({"tags": {"$all": ["y"]}}, ["a", "b"]),
        ({"tags": {"$all": []}}, []),  # Mongo: an empty $all matches nothing
        ({"tags": {"$size": 1}}, ["b"]),
        ({"tags": {"$size": 0}}, ["c"]),
        ({"n": {"$not": {"$gt": 1}}}, ["a", "d"]),  # a missing field is "not > 1"
        ({"name": {"$not": "^[AB]"}}, ["b", "c", "d"]),  # $not of a regular expression
        ({"name": {"$regex": "^Ä", "$options": "i"}}, []),
    ],
)
def test_operators(query: dict[str, Any], expected: list[str]) -> None:
    assert ids(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        {"n": {"$where": "1"}},
        {"tags": {"$all": "x"}},
        {"tags": {"$size": "1"}},
        {"n": {"$not": 3}},
        {"n": {"$not": {"$bogus": 1}}},
        {"$text": {"$search": "x"}},
        {"$or": []},
        {"$and": {"n": 1}},
        {"n": {"$in": 1}},
        {"name": {"$regex": "("}},
        {"name": {"$regex": "a", "$options": "q"}},
    ],
)
def test_unknown_or_malformed_operators_are_syntax_errors(query: dict[str, Any]) -> None:
    with pytest.raises(QuerySyntaxError):
        ids(query)


@pytest.mark.parametrize("raw", ["{", "[1]", "3", '"x"'])
def test_query_text_must_be_a_json_object(raw: str) -> None:
    with pytest.raises(QuerySyntaxError):
        parse_json_object(raw, "query")


def test_empty_query_text_means_everything() -> None:
    assert parse_json_object(None, "query") == {} and parse_json_object(" ", "query") == {}


def test_sort_ascending_descending_and_by_several_keys() -> None:
    docs = [{"_id": str(i), "g": i % 2, "n": i} for i in range(5)]
    asc = sort_documents(docs, parse_sort('{"n": -1}'))
    assert [d["n"] for d in asc] == [4, 3, 2, 1, 0]
    two = sort_documents(docs, parse_sort('{"g": 1, "n": -1}'))
    assert [d["n"] for d in two] == [4, 2, 0, 3, 1]


def test_sort_puts_missing_values_first_and_orders_types() -> None:
    docs = [{"_id": "s", "v": "a"}, {"_id": "n", "v": 5}, {"_id": "m"}, {"_id": "b", "v": True}]
    assert [d["_id"] for d in sort_documents(docs, [("v", 1)])] == ["m", "n", "s", "b"]


@pytest.mark.parametrize("raw", ['{"n": 2}', '{"n": "asc"}', '{"n": true}', "[1]"])
def test_bad_sort_specs_are_syntax_errors(raw: str) -> None:
    with pytest.raises(QuerySyntaxError):
        parse_sort(raw)


def test_fields_keep_id_and_named_fields_only() -> None:
    fields = parse_fields("name, meta.age")
    assert fields == ["name", "meta.age"]
    assert project(DOCS[0], fields) == {"_id": "a", "name": "Alice", "meta": {"age": 30}}
    assert project(DOCS[0], None) is DOCS[0]
    assert parse_fields("") is None


@pytest.mark.parametrize(
    "query",
    [
        {"n": {"$where": "1"}},
        {"$or": [{"n": {"$bogus": 1}}]},
        {"n": {"$nin": "x"}},
        {"n": {"$regex": "["}},
    ],
)
def test_validation_needs_no_documents(query: dict[str, Any]) -> None:
    with pytest.raises(QuerySyntaxError):
        validate_query(query)
    validate_query({"n": {"$gt": 1}, "$or": [{"a": 1}, {"b": {"$exists": True}}]})
