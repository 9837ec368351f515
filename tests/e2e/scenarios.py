"""The matrix's scenarios, and how one is run against one base URL at one client version."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from tests.e2e import (
    scenarios_data,
    scenarios_files,
    scenarios_gaps,
    scenarios_mfa,
    scenarios_queries,
    scenarios_surface_data,
    scenarios_surface_services,
    scenarios_surface_users,
    scenarios_users,
)
from tests.e2e.client import KinveyClient
from tests.e2e.normalize import Observation

SCENARIO_TIMEOUT_SECONDS = 60.0
CLIENT_VERSIONS = range(7)
PINS = range(3, 7)


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[KinveyClient], Awaitable[None]]
    # Versions whose change this scenario must see: run directly at k-1 and at k, its
    # observations differ (checked by test_matrix_harness, so no scenario is vacuous).
    shows_changes_of: tuple[int, ...]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("handshake", scenarios_data.handshake, (1,)),
    Scenario("signup-login", scenarios_users.signup_and_login, (1, 6)),
    Scenario("auth", scenarios_users.session_and_basic_auth, (1, 6)),
    Scenario("crud", scenarios_data.entity_crud, (1,)),
    Scenario("deletes", scenarios_data.deletes, (2,)),
    Scenario("user-delete", scenarios_users.user_delete_and_restore, (1, 2)),
    Scenario("files-old", scenarios_files.old_files_api, (2, 3)),
    Scenario("files-new", scenarios_files.new_files_api, (3,)),
    Scenario("files-content-type", scenarios_files.metadata_content_type, (3, 4)),
    Scenario("result-set", scenarios_data.result_set_limit, (4,)),
    Scenario("oauth-refresh", scenarios_users.social_login_refresh_error, (1, 4)),
    Scenario("multi-insert", scenarios_data.multi_insert, (5,)),
    Scenario("mfa-login", scenarios_mfa.mfa_account_login, (6,)),
    Scenario("mfa-endpoints", scenarios_mfa.mfa_endpoints, (6,)),
    Scenario("errors", scenarios_data.error_shapes, (1,)),
    Scenario("custom-endpoint", scenarios_data.custom_endpoint, (1,)),
    # The wider surface a production app calls (issue 14).
    Scenario("queries", scenarios_queries.query_operators, (1,)),
    Scenario("group-deltaset", scenarios_queries.group_and_deltaset, (1,)),
    Scenario("users-surface", scenarios_surface_users.user_surface, (1,)),
    Scenario("basic-credentials", scenarios_surface_users.basic_credentials, (1, 6)),
    Scenario("entity-acl", scenarios_surface_data.entity_acl, (1,)),
    Scenario("unusual-names", scenarios_surface_data.unusual_names, (1, 2)),
    Scenario("multi-insert-edges", scenarios_surface_data.multi_insert_edges, (5,)),
    Scenario("result-set-edges", scenarios_surface_data.result_set_edges, (4,)),
    Scenario("bodies-methods", scenarios_surface_data.bodies_and_methods, (2, 5)),
    Scenario("push-endpoints", scenarios_surface_services.push_and_endpoints, (1, 6)),
    Scenario("files-surface", scenarios_surface_services.files_surface, (3,)),
    Scenario("route-errors", scenarios_surface_services.errors_on_every_route, (1,)),
    # Issue 14's gaps (tests/e2e/scenarios_gaps.py).
    Scenario("app-credentials", scenarios_gaps.app_credentials_elsewhere, (1,)),
    Scenario("social-signup", scenarios_gaps.social_signup, (1, 6)),
    Scenario("recovery-codes", scenarios_gaps.recovery_codes, (6,)),
    Scenario("gateway-answers", scenarios_gaps.gateway_answers, (5,)),
    Scenario("expect-continue", scenarios_gaps.expect_continue, (1, 3, 5)),
)

BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


async def run_scenario(
    scenario: Scenario, http: aiohttp.ClientSession, base_url: str, version: int
) -> list[Observation]:
    """The scenario's observations as a client at ``version`` sees them at ``base_url``."""
    client = KinveyClient(http, base_url, version)
    await asyncio.wait_for(scenario.run(client), SCENARIO_TIMEOUT_SECONDS)
    return client.observations
