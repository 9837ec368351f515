"""``?query=&sort=&skip=&limit=&fields=`` on a collection, with the result-set limit by version.

A query that would return more than the result-set limit L (no ``limit``, or one above L):
v4+ answer ``400 ResultSetSizeExceeded``; v3 and below silently return the first L.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.emulator import versions
from gateway.emulator.ordering import parse_fields, parse_sort, project, sort_documents
from gateway.emulator.query import (
    Document,
    QuerySyntaxError,
    matches,
    parse_json_object,
    validate_query,
)
from gateway.emulator.responses import kinvey_error
from gateway.emulator.routing import Call
from gateway.kinvey.errors import KinveyError


@dataclass(frozen=True, slots=True)
class Listing:
    query: Document
    sort: list[tuple[str, int]]
    skip: int
    limit: int | None
    fields: list[str] | None


def _non_negative(call: Call, name: str) -> int | None:
    raw = call.arg(name)
    if raw is None or raw == "":
        return None
    if not raw.strip().isdigit():
        raise kinvey_error(
            "ParameterValueOutOfRange", f"{name} must be a non-negative whole number"
        )
    return int(raw)


def query_of(call: Call) -> Document:
    try:
        return parse_json_object(call.arg("query"), "query")
    except QuerySyntaxError as exc:
        raise kinvey_error("InvalidQuerySyntax", str(exc)) from None


def listing_of(call: Call) -> Listing:
    query = query_of(call)
    try:
        sort = parse_sort(call.arg("sort"))
    except QuerySyntaxError as exc:
        raise kinvey_error("InvalidQuerySyntax", str(exc)) from None
    return Listing(
        query=query,
        sort=sort,
        skip=_non_negative(call, "skip") or 0,
        limit=_non_negative(call, "limit") or None,  # Mongo: limit 0 means no limit
        fields=parse_fields(call.arg("fields")),
    )


def matching(docs: Iterable[Document], query: Document) -> list[Document]:
    try:
        validate_query(query)
        return [doc for doc in docs if matches(doc, query)]
    except QuerySyntaxError as exc:
        raise kinvey_error("InvalidQuerySyntax", str(exc)) from None


def result_set_exceeded(limit: int) -> KinveyError:
    return KinveyError(
        "ResultSetSizeExceeded",
        description=f"Your query produced more than {limit:,} results. Please rewrite your "
        "query to be more selective.",
        debug=f"Add a limit of at most {limit} or a more selective query",
    )


def run_listing(
    docs: Iterable[Document], listing: Listing, version: int, result_set_limit: int
) -> list[Document]:
    found = sort_documents(matching(docs, listing.query), listing.sort)[listing.skip :]
    limit = listing.limit
    if (limit is None or limit > result_set_limit) and len(found) > result_set_limit:
        if versions.refuses_oversized_results(version):
            raise result_set_exceeded(result_set_limit)
        limit = result_set_limit
    if limit is not None:
        found = found[:limit]
    return [project(doc, listing.fields) for doc in found]
