"""Pairs the spec says cannot be emulated: what the gateway must answer instead, and why.

Everywhere else the gateway must answer exactly what the reference emulator answers at the
client's version. A step listed here is checked against its entry instead (status, error name,
required body fields, and words the description must contain); anything else that differs is a
failure. ``docs/version-matrix.md`` shows this table to humans; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.e2e.normalize import Observation


@dataclass(frozen=True)
class Divergence:
    scenario: str
    steps: tuple[str, ...]
    clients: range
    pins: range
    status: int
    reason: str
    error: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    description_mentions: str | None = None

    def covers(self, scenario: str, step: str, client: int, pin: int) -> bool:
        return (
            scenario == self.scenario
            and step in self.steps
            and client in self.clients
            and pin in self.pins
        )

    def problem(self, seen: Observation, client: int) -> str | None:
        """Why ``seen`` is not what this entry promises (None: it is)."""
        raw = seen.raw if isinstance(seen.raw, dict) else {}
        if seen.status != self.status:
            return f"status {seen.status}, wanted {self.status}"
        description = raw.get("description", "")
        if self.error is not None and client == 0:
            # v0 errors are {"error": <description>}: the name is not shown, the text is.
            if set(raw) != {"error"} or raw["error"] == self.error:
                return f"not the v0 error shape for {self.error}"
            description = raw["error"]
        elif self.error is not None and raw.get("error") != self.error:
            return f"error {raw.get('error')!r}, wanted {self.error!r}"
        for name, wanted in self.fields.items():
            if raw.get(name, "<absent>") != wanted:
                return f"{name} = {raw.get(name, '<absent>')!r}, wanted {wanted!r}"
        mention = self.description_mentions
        if mention and mention not in str(description).lower():
            return f"description {description!r} does not mention {mention!r}"
        return None


PRE_MFA = range(6)
PRE_MFA_WITH_SESSIONS = range(1, 6)
MFA_PIN = range(6, 7)
PRE_MFA_PINS = range(3, 6)
V6 = range(6, 7)

MFA_ENDPOINT_STEPS = (
    "mfa challenge",
    "mfa complete with a wrong code",
    "mfa complete",
    "list authenticators",
    "add an authenticator",
)

RECOVERY_LOGIN = ("login of an MFA account with a recovery code",)

DIVERGENCES: tuple[Divergence, ...] = (
    Divergence(
        "recovery-codes",
        RECOVERY_LOGIN,
        PRE_MFA_WITH_SESSIONS,
        MFA_PIN,
        401,
        "§4 v6: a pre-v6 app cannot log an MFA account in, whatever its login body carries (a "
        "recovery code included); the reference below v6 knows no MFA and logs the user in",
        error="InvalidCredentials",
        description_mentions="multi-factor",
    ),
    Divergence(
        "recovery-codes",
        ("list recovery codes", "regenerate recovery codes"),
        V6,
        PRE_MFA_PINS,
        400,
        "§3/§4 v6: recovery codes are MFA endpoints, v6 only; on an older upstream → "
        "400 FeatureUnavailable",
        error="FeatureUnavailable",
    ),
    Divergence(
        "recovery-codes",
        RECOVERY_LOGIN,
        V6,
        PRE_MFA_PINS,
        200,
        "§4 v6 Up: an older upstream knows no MFA; its answer is passed on as it is",
        fields={"mfaRequired": False},
    ),
    Divergence(
        "mfa-login",
        ("login of an MFA account",),
        PRE_MFA_WITH_SESSIONS,
        MFA_PIN,
        401,
        "§4 v6 Decision: a pre-v6 app cannot finish an MFA login, so the gateway answers 401 "
        "InvalidCredentials saying the account needs MFA (the reference backend below v6 "
        "knows no MFA and simply logs the user in)",
        error="InvalidCredentials",
        description_mentions="multi-factor",
    ),
    Divergence(
        "mfa-login",
        (
            "v0 login of an MFA account (_me with Basic)",
            "data call with Basic credentials of an MFA account",
        ),
        PRE_MFA,
        MFA_PIN,
        401,
        "§4 v6: user Basic auth is served by logging in upstream, and an account that requires "
        "MFA cannot log in without it, so there is no session to send",
        error="InvalidCredentials",
    ),
    Divergence(
        "mfa-login",
        ("login of an MFA account",),
        V6,
        PRE_MFA_PINS,
        200,
        "§4 v6 Up: an older upstream knows no MFA; its answer for such an account is passed "
        "on as it is (wrapped as a v6 login without MFA)",
        fields={"mfaRequired": False},
    ),
    Divergence(
        "mfa-endpoints",
        MFA_ENDPOINT_STEPS,
        V6,
        PRE_MFA_PINS,
        400,
        "§3/§4 v6: the MFA endpoints are v6 only; on an older upstream → 400 FeatureUnavailable",
        error="FeatureUnavailable",
    ),
    Divergence(
        "mfa-endpoints",
        ("_me with the session MFA gave",),
        V6,
        PRE_MFA_PINS,
        401,
        "follows from the row above: MFA cannot complete, so there is no session to use",
        error="InvalidCredentials",
    ),
)


def divergence_for(scenario: str, step: str, client: int, pin: int) -> Divergence | None:
    for entry in DIVERGENCES:
        if entry.covers(scenario, step, client, pin):
            return entry
    return None
