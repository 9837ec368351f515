"""The matrix's own machinery: normalizing, comparing, and proof that scenarios are not vacuous.

A matrix whose scenarios never touch a change would pass whatever the gateway does; so each
scenario is run directly on the reference emulator at k-1 and at k for the versions k it
claims to cover, and the two runs must differ.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.e2e.compare import differences
from tests.e2e.divergences import DIVERGENCES
from tests.e2e.normalize import Normalizer, Observation
from tests.e2e.scenarios import BY_NAME, SCENARIOS, run_scenario
from tests.e2e.servers import RESULT_SET_LIMIT

StartEmulator = Callable[..., Awaitable[str]]


def test_normalizer_hides_run_values_and_keeps_relations() -> None:
    normalizer = Normalizer(names={"alice-0a1b2c3d4e": "<alice>"})
    user_id = "5f0c1e2d3a4b5c6d7e8f9012"
    body = {
        "username": "alice-0a1b2c3d4e",
        "_id": user_id,
        "_acl": {"creator": user_id},
        "_kmd": {"lmt": "2024-05-01T10:11:12.345Z", "authtoken": "tok-abc"},
        "_downloadURL": "http://127.0.0.1:4242/_storage/xyz",
        "password": "generated-secret",
        "implicit": "0b6e2f43-3f55-4a43-9a59-0c8f7d1e2a3b",
        "n": 3,
        "tag": "kept as is",
    }
    assert normalizer.body(body, 201) == {
        "_acl": {"creator": "<id1>"},
        "_downloadURL": "<url>",
        "_id": "<id1>",
        "_kmd": {"authtoken": "<token1>", "lmt": "<time>"},
        "implicit": "<uuid1>",
        "n": 3,
        "password": "<secret1>",
        "tag": "kept as is",
        "username": "<alice>",
    }


def test_error_text_is_hidden_but_names_and_shapes_are_kept() -> None:
    normalizer = Normalizer()
    v1 = {"error": "EntityNotFound", "description": "gone", "debug": "id x"}
    assert normalizer.body(v1, 404) == {
        "debug": "<text>",
        "description": "<text>",
        "error": "EntityNotFound",
    }
    assert normalizer.body({"error": "This entity was not found"}, 404) == {"error": "<text>"}
    # A v0 body carrying the *name* instead of the description is a shape bug: keep it visible.
    assert normalizer.body({"error": "EntityNotFound"}, 404) == {"error": "EntityNotFound"}


def _seen(step: str, status: int, body: Any) -> Observation:
    return Observation(step, status, (), Normalizer().body(body, status), "GET /x", body)


def test_compare_reports_differences_and_holds_divergences_to_their_promise() -> None:
    same = _seen("read", 200, {"n": 1})
    assert differences("crud", 1, 6, [same], [same]) == []
    changed = differences("crud", 1, 6, [same], [_seen("read", 200, {"n": 2})])
    assert len(changed) == 1 and "expected (emulator at v1)" in changed[0]
    assert "only in the gateway run" in differences("crud", 1, 6, [], [same])[0]

    step = "login of an MFA account"
    reference = _seen(step, 200, {"username": "u"})
    refused = {
        "error": "InvalidCredentials",
        "description": "This account requires multi-factor authentication",
        "debug": "",
    }
    assert differences("mfa-login", 5, 6, [reference], [_seen(step, 401, refused)]) == []
    wrong_text = {**refused, "description": "Wrong password"}
    problems = differences("mfa-login", 5, 6, [reference], [_seen(step, 401, wrong_text)])
    assert len(problems) == 1 and "does not mention" in problems[0]
    # The same step on a pair the table does not list must match the reference exactly.
    assert differences("mfa-login", 5, 5, [reference], [_seen(step, 401, refused)])


def test_scenarios_together_cover_every_version_change() -> None:
    covered = {version for scenario in SCENARIOS for version in scenario.shows_changes_of}
    assert covered == set(range(1, 7))


@pytest.fixture
async def reference(start_emulator: StartEmulator) -> str:
    return await start_emulator(result_set_limit=RESULT_SET_LIMIT)


@pytest.mark.parametrize(
    ("scenario_name", "version"),
    [
        pytest.param(scenario.name, version, id=f"{scenario.name}-at-v{version}")
        for scenario in SCENARIOS
        for version in scenario.shows_changes_of
    ],
)
async def test_scenario_sees_the_change_it_covers(
    reference: str, scenario_name: str, version: int
) -> None:
    scenario = BY_NAME[scenario_name]
    async with aiohttp.ClientSession() as http:
        before = await run_scenario(scenario, http, reference, version - 1)
        after = await run_scenario(scenario, http, reference, version)
    assert before != after, f"{scenario_name} looks the same at v{version - 1} and v{version}"


@pytest.mark.parametrize("index", range(len(DIVERGENCES)))
async def test_divergence_entries_name_steps_the_scenario_takes(reference: str, index: int) -> None:
    entry = DIVERGENCES[index]
    taken_by_any: set[str] = set()
    async with aiohttp.ClientSession() as http:
        for client in entry.clients:
            run = await run_scenario(BY_NAME[entry.scenario], http, reference, client)
            taken = {observation.step for observation in run}
            assert taken & set(entry.steps), f"v{client} {entry.scenario}: none of {entry.steps}"
            taken_by_any |= taken
    assert set(entry.steps) <= taken_by_any


def test_compare_holds_every_answer_to_the_header_rules() -> None:
    good = (("api-version", "2"), ("request-id", True), ("content", "none"), ("location", False))
    deleted = Observation("delete", 204, good, None, "DELETE /x")
    assert differences("deletes", 2, 6, [deleted], [deleted]) == []
    echoed_pin = Observation("delete", 204, (("api-version", "6"), *good[1:]), None)
    assert "not 2" in differences("deletes", 2, 6, [echoed_pin], [echoed_pin])[0]
    typed = Observation("delete", 204, (*good[:2], ("content", "json"), good[3]), None)
    assert "with a body" in differences("deletes", 2, 6, [typed], [typed])[0]
