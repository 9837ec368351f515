"""The access log's fast duration formatting prints exactly what ``json.dumps`` would."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.observability.access_record import _json_seconds, _seconds

EDGES = [
    0.0, 1e-7, 5e-7, 4.9999999e-07, 9.99999e-05, 9.9999949e-05, 1e-4, 0.00010000049, 0.0005,
    0.0000125, 0.0123456789, 0.5, 1.0, 1.0000005, 2.5e-6, 59.9999995, 123456.7890125,
    999999999.9999994, 1e9, 1e12, math.inf, -math.inf, math.nan, -0.001,
]  # fmt: skip


@pytest.mark.parametrize("value", [*EDGES, None])
def test_edges_match_json_dumps_of_the_rounded_value(value: float | None) -> None:
    assert _json_seconds(value) == json.dumps(_seconds(value))


@given(st.floats(min_value=0, max_value=1e10) | st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_matches_json_dumps_of_the_rounded_value(value: float) -> None:
    assert _json_seconds(value) == json.dumps(_seconds(value))
