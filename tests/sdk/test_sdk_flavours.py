"""Old app releases keep working: real Kinvey SDKs of three generations run one app session.

Flavours (tests/sdk/vN, see docs/sdk-tests.md): v3 = kinvey@1.7.0, v4 = kinvey-node-sdk@3.12.5,
v6 = kinvey-js-sdk@7.0.0 with the kinvey-html5-sdk@4.2.5 adapters. Each run prints one JSON line
per step; a failing test shows all of them, plus the SDK's stderr and the services' logs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sdk.harness import ScenarioRun, Service, run_scenario

# Steps that need the server to accept the SDK's API version at all.
VERSION_BOUND_STEPS = ("ping", "signup", "login")


def assert_every_step_passed(run: ScenarioRun, *services: Service) -> None:
    if not run.steps or run.failed_steps() or run.exit_code != 0:
        pytest.fail(f"failed steps {run.failed_steps()}\n{run.report(*services)}", pytrace=False)


@pytest.mark.parametrize("flavour", ["v3", "v4"])
def test_old_sdk_works_through_gateway_pinned_to_6(
    node: str, flavour: str, gateway_pinned_to_6: Service, v6_only_emulator: Service
) -> None:
    run = run_scenario(node, flavour, gateway_pinned_to_6.url)

    assert_every_step_passed(run, gateway_pinned_to_6, v6_only_emulator)


def refused_for_version(step: dict[str, Any]) -> bool:
    return step["ok"] is False and "APIVersionNotAvailable" in json.dumps(step["detail"])


@pytest.mark.parametrize("flavour", ["v3", "v4"])
def test_old_sdk_fails_straight_against_v6_only_backend(
    node: str, flavour: str, v6_only_emulator: Service
) -> None:
    """The problem the gateway solves: a v6-only backend turns old apps away."""
    run = run_scenario(node, flavour, v6_only_emulator.url)

    not_refused = [name for name in VERSION_BOUND_STEPS if not refused_for_version(run.step(name))]
    if run.exit_code == 0 or not_refused:
        pytest.fail(
            f"expected {list(VERSION_BOUND_STEPS)} to fail with APIVersionNotAvailable; "
            f"not so: {not_refused}, exit {run.exit_code}\n{run.report(v6_only_emulator)}",
            pytrace=False,
        )


def test_v6_sdk_works_through_gateway_pinned_to_5(
    node: str, gateway_pinned_to_5: Service, v5_only_emulator: Service
) -> None:
    """Forward emulation: a v6 app in front of a backend that only speaks v5."""
    run = run_scenario(node, "v6", gateway_pinned_to_5.url)

    assert_every_step_passed(run, gateway_pinned_to_5, v5_only_emulator)


@pytest.mark.parametrize("flavour", ["v3", "v4", "v6"])
def test_sdk_works_straight_against_emulator_serving_all_versions(
    node: str, flavour: str, all_versions_emulator: Service
) -> None:
    """The emulator is faithful: each SDK passes against it at its own version."""
    run = run_scenario(node, flavour, all_versions_emulator.url)

    assert_every_step_passed(run, all_versions_emulator)
