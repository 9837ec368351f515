"""Traffic by app release and SDK with bounded label values: which releases still call.

App releases and SDK versions come from request headers, so their label values must be folded
like every other label fed by request data (see :mod:`gateway.observability.labels`): a
:class:`TopK` keeps the K most frequent values as labels and folds the rest into ``other``.
Frequencies are estimated with the Misra-Gries summary (at most ``8 * K`` counters, each
arrival O(1) amortized), so a flood of random header values costs bounded memory and can
neither grow the series count nor push out a release that really is frequent: a value is
promoted only once its estimated count reaches ``PROMOTE_AT`` and twice the weakest member's.
A demoted value's series end (their counts move to ``other``, so sums still match the
request counters), so at most K values per label exist at any time. Event loop thread only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from gateway.kinvey.client_identity import (
    NO_RELEASE,
    SDK_FAMILIES,
    UNPARSED_RELEASE,
    ClientIdentity,
)
from gateway.observability.labels import OTHER_VALUE, api_version_label
from gateway.observability.series import Cell, CounterSet, GaugeReading, Labels

DEFAULT_TOP_K: Final = 20
PROMOTE_AT: Final = 16  # estimated arrivals before a value may displace a member


class TopK:
    """Fold a stream of values onto at most ``k`` of its most frequent ones plus ``other``.

    ``reserved`` values (a fixed, small set such as ``none``) are always their own label and
    do not take a slot. ``on_demote(value)`` runs when a member loses its slot.
    """

    def __init__(
        self, k: int, reserved: Iterable[str] = (), on_demote: Callable[[str], None] | None = None
    ) -> None:
        self.k = k
        self.members: set[str] = set()
        self.reserved = frozenset(reserved)
        self._counts: dict[str, int] = {}
        self._capacity = max(8 * k, 64)
        self._on_demote = on_demote or (lambda _value: None)

    def label(self, value: str) -> str:
        """Count one arrival of ``value``; its label: itself or ``other``."""
        if value in self.reserved:
            return value
        counts = self._counts
        count = counts.get(value, 0) + 1
        if count > 1 or len(counts) < self._capacity:
            counts[value] = count
        else:
            self._decrement_all()
            counts, count = self._counts, 0
        members = self.members
        if value in members:
            return value
        if len(members) < self.k:
            members.add(value)
            return value
        if count >= PROMOTE_AT:
            weakest = min(members, key=lambda m: counts.get(m, 0))
            if count >= 2 * counts.get(weakest, 0):
                members.discard(weakest)
                members.add(value)
                self._on_demote(weakest)
                return value
        return OTHER_VALUE

    def _decrement_all(self) -> None:
        # Misra-Gries: a new value with no free counter cancels one arrival of every tracked
        # value; each decrement is paid for by an earlier increment, so O(1) amortized.
        self._counts = {v: n - 1 for v, n in self._counts.items() if n > 1}


class ReleaseMetrics:
    """``kgw_client_releases_total`` and friends (registered by ``Metrics``)."""

    def __init__(self, top_k: int, newest_api_version: int) -> None:
        self._newest_api_version = newest_api_version
        self.requests = CounterSet(
            "kgw_client_releases",
            "Requests by app release (X-Kinvey-Client-App-Version; none = no header), SDK "
            "and client API version; the top-K releases and SDKs, the rest folded into other.",
            ("app_release", "sdk", "api_version"),
        )
        self.refusals = CounterSet(
            "kgw_client_release_refusals",
            "Requests from releases below apps.<appKey>.min_client_app_version: refused, or "
            "counted only (report_only mode).",
            ("app_release", "mode"),
        )
        self.first_seen: dict[str, float] = {}
        self.last_seen: dict[str, float] = {}
        self.first_seen_gauge = GaugeReading(
            "kgw_client_release_first_seen_timestamp_seconds",
            "When the gateway first saw each app release label (since the process started).",
            lambda: _readings(self.first_seen),
            ("app_release",),
        )
        self.last_seen_gauge = GaugeReading(
            "kgw_client_release_last_seen_timestamp_seconds",
            "When the gateway last saw each app release label.",
            lambda: _readings(self.last_seen),
            ("app_release",),
        )
        self.releases = TopK(top_k, (NO_RELEASE, UNPARSED_RELEASE), self._forget_release)
        self.sdks = TopK(top_k, SDK_FAMILIES, self._forget_sdk)
        self._cells: dict[tuple[str, str, int | None], Cell] = {}

    def series(self) -> tuple[CounterSet | GaugeReading, ...]:
        return (self.requests, self.refusals, self.first_seen_gauge, self.last_seen_gauge)

    def observe(
        self, identity: ClientIdentity, api_version: int | None, refusal: str | None, now: float
    ) -> None:
        release = self.releases.label(identity.app_release)
        sdk = self.sdks.label(identity.sdk_label)
        key = (release, sdk, api_version)
        cell = self._cells.get(key)
        if cell is None:
            version = api_version_label(api_version, self._newest_api_version)
            cell = self.requests.cell(release, sdk, version)
            self._cells[key] = cell  # bounded: (K + reserved + 1)^2 folded labels x versions
        cell[0] += 1
        if release not in self.first_seen:
            self.first_seen[release] = now
        self.last_seen[release] = now
        if refusal is not None:
            self.refusals.cell(release, refusal)[0] += 1

    def _forget_release(self, release: str) -> None:
        _fold_into_other(self.requests, 0, release)
        _fold_into_other(self.refusals, 0, release)
        first, last = self.first_seen.pop(release, None), self.last_seen.pop(release, None)
        if first is not None and last is not None:
            self.first_seen[OTHER_VALUE] = min(first, self.first_seen.get(OTHER_VALUE, first))
            self.last_seen[OTHER_VALUE] = max(last, self.last_seen.get(OTHER_VALUE, last))
        self._cells.clear()  # some cached cells are gone; the next requests bind again

    def _forget_sdk(self, sdk: str) -> None:
        _fold_into_other(self.requests, 1, sdk)
        self._cells.clear()


def _fold_into_other(counters: CounterSet, position: int, value: str) -> None:
    """A demoted value's series end; their counts move to ``other`` (so totals still add up)."""
    for labels in [labels for labels in counters.cells if labels[position] == value]:
        count = counters.cells.pop(labels)[0]
        folded = (*labels[:position], OTHER_VALUE, *labels[position + 1 :])
        counters.cell(*folded)[0] += count


def _readings(stamps: dict[str, float]) -> list[tuple[Labels, float]]:
    return [((release,), stamp) for release, stamp in stamps.items()]
