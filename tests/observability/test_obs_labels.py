"""Label normalisers: every input lands in a small fixed set (bounded series count)."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gateway.observability import labels as lbl

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_route_label_set_is_the_route_table_documented_in_architecture_md() -> None:
    table = ARCHITECTURE.read_text().split("## Route names", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", table, flags=re.MULTILINE))
    assert "appdata.entity" in documented and "other" in documented
    assert documented == set(lbl.ROUTES)


def test_known_values_pass_through_and_unknown_ones_fold() -> None:
    assert lbl.method_label("DELETE") == "DELETE"
    assert lbl.method_label("delete") == "_OTHER"
    assert lbl.method_label("PROPFIND") == "_OTHER"
    assert lbl.route_label("blob.download_loc") == "blob.download_loc"
    assert lbl.route_label("/appdata/kid_x/secret-collection") == "other"
    assert [lbl.api_version_label(v, 6) for v in (0, 6, 7, -1, None)] == [
        "0", "6", "invalid", "invalid", "invalid",
    ]  # fmt: skip
    assert [lbl.api_version_label(v, 8) for v in (7, 8, 9)] == ["7", "8", "invalid"]
    assert [lbl.code_label(s) for s in (200, 550, 99, 600)] == ["200", "550", "invalid", "invalid"]
    assert [lbl.status_class_label(s) for s in (101, 204, 302, 404, 503, None, 0)] == [
        "1xx", "2xx", "3xx", "4xx", "5xx", "error", "invalid",
    ]  # fmt: skip
    assert lbl.one_of("timeout", lbl.UPSTREAM_OUTCOMES) == "timeout"
    assert lbl.one_of("exploded", lbl.UPSTREAM_OUTCOMES) == "other"


@given(method=st.text(max_size=12), route=st.text(max_size=30), version=st.integers() | st.none(),
       status=st.integers())  # fmt: skip
def test_any_input_maps_into_the_bounded_sets(
    method: str, route: str, version: int | None, status: int
) -> None:
    assert lbl.method_label(method) in lbl.METHODS | {"_OTHER"}
    assert lbl.route_label(route) in lbl.ROUTES
    assert lbl.api_version_label(version, 6) in lbl.api_versions(6)
    assert lbl.status_class_label(status) in lbl.STATUS_CLASSES
    code = lbl.code_label(status)
    assert code == "invalid" or 100 <= int(code) <= 599
