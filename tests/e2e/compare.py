"""Compare a gateway run with the reference run, step by step, honouring the divergence table."""

from __future__ import annotations

import itertools

from tests.e2e.divergences import divergence_for
from tests.e2e.normalize import Observation


def differences(
    scenario: str,
    client: int,
    pin: int,
    expected: list[Observation],
    got: list[Observation],
) -> list[str]:
    """One message per step where the gateway's answer is not the one the client is owed."""
    problems: list[str] = []
    pairs = itertools.zip_longest(expected, got)
    for index, (want, seen) in enumerate(pairs, start=1):
        if want is None or seen is None:
            extra = want or seen
            assert extra is not None
            side = "only in the reference run" if seen is None else "only in the gateway run"
            problems.append(f"step {index} {extra.step!r}: {side}")
            continue
        if want.step != seen.step:
            problems.append(f"step {index}: runs went apart ({want.step!r} vs {seen.step!r})")
            break
        broken = _broken_invariant(seen, client)
        if broken is not None:
            problems.append(f"step {index} {seen.step!r}: {seen.request}: {broken}")
        accepted = divergence_for(scenario, seen.step, client, pin)
        if accepted is not None:
            problem = accepted.problem(seen, client)
            if problem is not None:
                problems.append(
                    f"step {index} {seen.step!r}: {seen.request}\n"
                    f"    accepted divergence ({accepted.reason})\n"
                    f"    but {problem}: {seen.describe()}"
                )
            continue
        if want != seen:
            problems.append(
                f"step {index} {seen.step!r}: {seen.request}\n"
                f"    expected (emulator at v{client}): {want.describe()}\n"
                f"    got (gateway pinned to {pin}):  {seen.describe()}"
            )
    return problems


def _broken_invariant(seen: Observation, client: int) -> str | None:
    """Spec §1 rules every Kinvey answer obeys, divergence or not (storage steps excepted)."""
    if not seen.headers:
        return None
    headers = dict(seen.headers)
    if headers["api-version"] != str(client):
        return f"X-Kinvey-API-Version is {headers['api-version']!r}, not {client}"
    if not headers["request-id"]:
        return "no X-Kinvey-Request-Id"
    if seen.status in (204, 302) and (seen.body is not None or headers["content"] != "none"):
        return f"a {seen.status} with a body or a Content-Type"
    if seen.status == 302 and not headers["location"]:
        return "a 302 without Location"
    return None
