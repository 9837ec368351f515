"""The comparison itself: which differences count, and how they are named."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.shadow.compare import MAX_PATHS, Answer, Json, differences, fold_key, normalize


def _answer(body: Json | bytes, status: int = 200, **headers: str) -> Answer:
    return normalize(status, {k.replace("_", "-"): v for k, v in headers.items()}, body)


def test_identical_answers_have_no_differences() -> None:
    body: Json = {"_id": "a", "title": "Dune", "_kmd": {"ect": "t0"}}
    assert differences(_answer(body), _answer(body), ordered=False) == frozenset()


def test_status_headers_and_fields_are_named() -> None:
    old = _answer({"title": "Dune", "n": 1, "gone": True}, 200, content_type="application/json")
    new = _answer({"title": "Emma", "n": "1", "new": 2}, 201, content_type="text/plain")
    assert differences(old, new, ordered=False) == {
        "status",
        "header:content-type",
        "$.title",
        "$.n",
        "$.gone",
        "$.new",
    }


def test_kinveys_volatile_values_never_differ() -> None:
    """``_kmd.lmt``, session tokens, signed URLs, their expiry and a signed Location's query
    change on every call by design."""
    old = _answer(
        {"_kmd": {"lmt": "t1", "authtoken": "a"}, "_downloadURL": "https://s/x?sig=1"},
        location="https://storage/f?sig=1",
    )
    new = _answer(
        {"_kmd": {"lmt": "t2", "authtoken": "b"}, "_downloadURL": "https://s/x?sig=2"},
        location="https://storage/f?sig=2",
    )
    assert differences(old, new, ordered=False) == frozenset()
    # ... but an ``lmt`` that is user data (not under _kmd) is compared.
    assert differences(_answer({"lmt": 1}), _answer({"lmt": 2}), ordered=False) == {"$.lmt"}


def test_entities_are_matched_by_id_unless_the_query_sorted() -> None:
    old = _answer([{"_id": "a", "n": 1}, {"_id": "b", "n": 2}])
    new = _answer([{"_id": "b", "n": 2}, {"_id": "a", "n": 1}])
    assert differences(old, new, ordered=False) == frozenset()
    assert differences(old, new, ordered=True) == {"$[]._id", "$[].n"}


def test_array_positions_and_ids_fold_into_a_bounded_vocabulary() -> None:
    old = _answer([{"_id": "a", "_acl": {"r": ["5f1b2c3d4e5f60718293a4b5"]}}])
    new = _answer([{"_id": "a", "_acl": {"r": []}}])
    assert differences(old, new, ordered=False) == {"$[]._acl.r[]#length"}
    by_id = _answer({"5f1b2c3d4e5f60718293a4b5": 1})
    assert differences(by_id, _answer({"5f1b2c3d4e5f60718293a4b5": 2}), ordered=False) == {"$.<id>"}


@pytest.mark.parametrize(
    ("key", "folded"),
    [
        ("title", "title"),
        ("_kmd", "_kmd"),
        ("5f1b2c3d4e5f60718293a4b5", "<id>"),
        ("0f8fad5b-d9cb-469f-a165-70867728950e", "<id>"),
        ("1234567", "<id>"),
        ("user@example.com", "<key>"),
        ("x" * 41, "<key>"),
    ],
)
def test_keys_a_client_chose_are_never_echoed(key: str, folded: str) -> None:
    assert fold_key(key) == folded


def test_bytes_bodies_compare_as_a_whole() -> None:
    assert differences(_answer(b"abc"), _answer(b"abd"), ordered=False) == {"$"}
    assert differences(_answer(b"abc"), _answer({"a": 1}), ordered=False) == {"$"}


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_json, _json)
def test_any_two_bodies_compare_without_error_and_bounded(old: Json, new: Json) -> None:
    found = differences(_answer(old), _answer(new), ordered=False)
    assert len(found) <= MAX_PATHS
    assert differences(_answer(old), _answer(old), ordered=True) == frozenset()
