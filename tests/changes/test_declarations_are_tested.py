"""Mutation check: every declaration a change makes is one its own unit tests depend on.

For every change and every hook, each declaration that narrows what the hook sees is removed
in turn — ``reads_body=True`` dropped, declared ``statuses`` back to the 2xx default, declared
``routes`` widened to every route — and the change's own test file
(``tests/changes/test_<module>.py``) is run in this process against the mutated change. At
least one of its tests must fail; a declaration no test notices is one that could be deleted
or broken unnoticed.

The file's tests run in-process (``pytest.main``), so the mutation applies to the gateways the
end-to-end cases start here too. ``-x`` stops a run at its first failure, which keeps this fast.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.changes import BUNDLE
from gateway.versioning.change import SUCCESS, Hook, HookKind, VersionChange

HERE = Path(__file__).parent


def _mutations(hook: Hook) -> Iterator[tuple[str, Hook]]:
    if hook.reads_body:
        yield "reads_body removed", dataclasses.replace(hook, reads_body=False)
    if hook.kind is HookKind.RESPONSE and hook.statuses != SUCCESS:
        yield "statuses removed", dataclasses.replace(hook, statuses=SUCCESS)
    if hook.routes is not None:
        yield "routes widened to every route", dataclasses.replace(hook, routes=None)


CASES = [
    pytest.param(change, index, mutant, id=f"{change.__qualname__}.{hook.name}: {what}")
    for change in BUNDLE.changes
    for index, hook in enumerate(change.hooks)
    for what, mutant in _mutations(hook)
]


def _own_tests(change: type[VersionChange]) -> Path:
    return HERE / f"test_{change.__module__.rsplit('.', 1)[-1]}.py"


def test_every_change_has_its_own_test_file_and_declarations_to_check() -> None:
    for change in BUNDLE.changes:
        assert _own_tests(change).is_file(), change.__qualname__
    assert len(CASES) >= 20


@pytest.mark.parametrize(("change", "index", "mutant"), CASES)
def test_removing_a_declaration_fails_one_of_the_changes_own_tests(
    change: type[VersionChange], index: int, mutant: Hook
) -> None:
    original = change.hooks
    change.hooks = (*original[:index], mutant, *original[index + 1 :])
    BUNDLE.clear_plans()
    try:
        exit_code = pytest.main(
            [str(_own_tests(change)), "-x", "-q", "-p", "no:cacheprovider", "-n", "0"]
        )
    finally:
        change.hooks = original
        BUNDLE.clear_plans()
    assert exit_code == pytest.ExitCode.TESTS_FAILED, (
        f"no test in {_own_tests(change).name} notices the mutation"
    )
