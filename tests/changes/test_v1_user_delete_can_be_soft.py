"""v1 UserDeleteCanBeSoft on its own: a v0 user delete carries no flag into version 1."""

from __future__ import annotations

import pytest

from gateway.changes import BUNDLE
from gateway.versioning.pipeline import run_plan
from tests.changes.support import answering, assert_untouched, make_request


@pytest.mark.parametrize(
    ("query", "sent"),
    [("", ""), ("?soft=true", ""), ("?hard=true&soft=true", ""), ("?_=1&soft=true", "?_=1")],
)
async def test_v0_flags_are_dropped_on_the_way_to_v1(query: str, sent: str) -> None:
    # Upstream 1 is not a supported pin; it isolates this one layer.
    plan = BUNDLE.plan(0, 1, "DELETE", "user.entity")
    assert "UserDeleteCanBeSoft" in plan.change_names
    upstream = answering(204)
    await run_plan(plan, make_request("DELETE", f"/user/k/u1{query}", 0, 1), upstream)
    assert upstream.seen[0].raw_path == f"/user/k/u1{sent}"


def test_v1_clients_keep_their_flags_for_the_v2_change() -> None:
    assert BUNDLE.plan(1, 6, "DELETE", "user.entity").change_names.count("UserDeleteCanBeSoft") == 0


async def test_flags_on_other_deletes_are_left_alone() -> None:
    await assert_untouched("DELETE", "/appdata/k/books/b1?soft=true&hard=true", 0, 1)
