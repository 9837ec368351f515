"""kgw_client_releases_total: top-K label folding keeps the series count bounded.

Random and hostile header values (100k of them, and a hypothesis fuzz through the real header
parser) must never grow the number of exported series past the bound, while releases that
really are frequent keep, or win, their own label.
"""

from __future__ import annotations

import random
import string

from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict
from prometheus_client import CollectorRegistry

from gateway.kinvey.client_identity import SDK_FAMILIES, ClientIdentity, identify
from gateway.observability.metrics import Metrics
from gateway.observability.releases import PROMOTE_AT, TopK

K = 20
RANDOM_VALUES = 100_000


def fresh(top_k: int = K) -> tuple[Metrics, CollectorRegistry]:
    registry = CollectorRegistry()
    metrics = Metrics(registry, version="t", upstream_api_version=6, release_top_k=top_k)
    return metrics, registry


def release_series(registry: CollectorRegistry) -> list[dict[str, str]]:
    return [
        sample.labels
        for family in registry.collect()
        if family.name == "kgw_client_releases"
        for sample in family.samples
        if sample.name == "kgw_client_releases_total"
    ]


def total(registry: CollectorRegistry) -> float:
    return sum(
        registry.get_sample_value("kgw_client_releases_total", labels) or 0
        for labels in release_series(registry)
    )


def random_text(rng: random.Random) -> str:
    return "".join(rng.choices(string.printable, k=rng.randint(1, 40)))


def test_100k_random_values_stay_within_k_labels_and_frequent_releases_win_theirs() -> None:
    metrics, registry = fresh()
    rng = random.Random(18)
    real = ["2.3.1", "2.4.0", "3.0.0"]
    for i in range(RANDOM_VALUES):
        if i % 10 == 0:  # a tenth of the traffic comes from three real releases
            identity = ClientIdentity(real[i % 3], "html5", "4.2.5")
        else:  # the rest: random release and SDK versions (parsable ones, the worst case)
            identity = ClientIdentity(
                f"{rng.randrange(10**6)}.{rng.randrange(100)}.0", "node", str(rng.randrange(10**6))
            )
        metrics.client_request(identity, rng.randrange(7), None, float(i))

    series = release_series(registry)
    releases = {labels["app_release"] for labels in series}
    sdks = {labels["sdk"] for labels in series}
    assert len(releases - {"other"}) <= K and len(sdks - {"other"}) <= K
    assert set(real) <= releases and "html5/4.2.5" in sdks  # frequent ones are never folded
    assert "other" in releases and "other" in sdks
    assert len(series) <= (K + 1) * (K + 1) * 7
    assert total(registry) == RANDOM_VALUES  # folded, never lost (demotion drops junk only)
    tracker = metrics.releases.releases
    assert len(tracker._counts) <= tracker._capacity  # memory stays bounded too


def test_junk_that_came_first_is_displaced_by_a_frequent_release() -> None:
    top = TopK(3)
    for junk in ("j1", "j2", "j3"):
        assert top.label(junk) == junk  # free slots go to whatever comes first
    assert top.label("2.4.0") == "other"
    labels = [top.label("2.4.0") for _ in range(PROMOTE_AT)]
    assert labels[-1] == "2.4.0" and len(top.members) == 3
    assert "2.4.0" in top.members and len(top.members & {"j1", "j2", "j3"}) == 2


def test_reserved_values_never_take_a_slot_and_demoted_series_disappear() -> None:
    metrics, registry = fresh(top_k=1)
    no_header = ClientIdentity("none", "unknown", "")
    metrics.client_request(no_header, 6, None, 1.0)
    metrics.client_request(ClientIdentity("1.0.0", "js", "1.7.0"), 3, None, 2.0)
    for i in range(PROMOTE_AT * 2):
        metrics.client_request(ClientIdentity("2.0.0", "js", "1.7.0"), 3, "report_only", 3.0 + i)
    releases = {labels["app_release"] for labels in release_series(registry)}
    assert releases == {"none", "2.0.0", "other"}  # 1.0.0 lost its slot to 2.0.0
    value = registry.get_sample_value
    assert value(
        "kgw_client_release_refusals_total", {"app_release": "2.0.0", "mode": "report_only"}
    )
    assert (
        value("kgw_client_release_first_seen_timestamp_seconds", {"app_release": "1.0.0"}) is None
    )
    assert value("kgw_client_release_first_seen_timestamp_seconds", {"app_release": "none"}) == 1.0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=30), st.text(max_size=60), st.text(max_size=60)),
        min_size=1,
        max_size=300,
    )
)
def test_hostile_headers_through_the_real_parser_never_grow_past_the_bound(
    requests: list[tuple[str, str, str]],
) -> None:
    metrics, registry = fresh(top_k=4)
    for release, information, agent in requests:
        headers = CIMultiDict(
            {
                "X-Kinvey-Client-App-Version": release,
                "X-Kinvey-Device-Information": information,
                "User-Agent": agent,
            }
        )
        metrics.client_request(identify(headers), 6, None, 0.0)
    series = release_series(registry)
    assert len({labels["app_release"] for labels in series} - {"none", "unparsed", "other"}) <= 4
    assert len({labels["sdk"] for labels in series} - {"other", *SDK_FAMILIES}) <= 4
    assert total(registry) == len(requests)
