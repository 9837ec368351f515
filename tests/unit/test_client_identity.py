"""App release and SDK from request headers: the formats the SDKs send, and hostile input.

The device-information formats are those of the SDK sources: the 1.x JS library builds
``js-<platform>/<version> [(<libs>)] <platform> <version> <manufacturer> <id>``
(kinvey.js ``deviceInformation``), the 3.x+ JS SDKs ``js-<package>/<version> <platform>
<version> <manufacturer>`` plus the JSON ``X-Kinvey-Device-Info`` (kinvey-html5-sdk
``lib/httpAdapter.js``: ``sdk: {name, version}``; kinvey-node-sdk 3: ``sdk: "<name>"``).
tests/sdk/test_sdk_identity.py records what the real SDKs send.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from gateway.config_values import as_optional_release
from gateway.kinvey import client_identity
from gateway.kinvey.client_identity import (
    SDK_FAMILIES,
    ClientIdentity,
    identify,
    parse_app_release,
    parse_sdk,
    release_number,
)


@pytest.mark.parametrize(
    ("raw", "release"),
    [
        (None, "none"),
        ("2.3.1", "2.3.1"),
        ("2.3", "2.3.0"),
        ("7", "7.0.0"),
        ("v2.3.1", "2.3.1"),
        (" 02.03.001 ", "2.3.1"),
        ("2.3.1-beta.2+45", "2.3.1"),
        ("2.3.1 (build 45)", "2.3.1"),
        (b"3.0.0", "3.0.0"),
        ("", "unparsed"),
        ("latest", "unparsed"),
        ("2.3.1.4", "unparsed"),
        ("1234567.0", "unparsed"),
        ("\u0661.\u0662", "unparsed"),  # Arabic-Indic digits are digits, not ASCII ones
        ("2.3.1\x00", "unparsed"),
        (b"\xff\xfe", "unparsed"),
        ("2" * 100_000, "unparsed"),
    ],
)
def test_app_release_is_normalized_or_unparsed(raw: str | bytes | None, release: str) -> None:
    assert parse_app_release(raw) == release


UUID = "3f1c9a2e-8d4b-4c1e-9a7f-0b6d5e4c3b2a"


@pytest.mark.parametrize(
    ("information", "info", "agent", "sdk"),
    [
        # the examples: an old Android SDK, an old browser app
        (f"Samsung/Galaxy_Nexus Android 4.2.2 {UUID}", None, None, ("android", "")),
        ("linux chrome 18 0", None, None, ("html5", "")),
        # kinvey@1.7.0 on node (recorded by tests/sdk): library/version first, id last
        ("js-nodejs/1.7.0 node v20.20.2 linux unknown", None, None, ("node", "1.7.0")),
        ("js-html5/1.6.10 (angularjs/1.2.0) chrome 31 macintel " + UUID, None, None,
         ("html5", "1.6.10")),
        ("js-phonegap/1.6.1 (phonegap/3.1.0) ios 7.0 iphone " + UUID, None, None,
         ("phonegap", "1.6.1")),
        # kinvey-html5-sdk 4.2.5: both headers; the JSON one names the SDK package
        ("js-kinvey-html5-sdk/4.2.5 chrome 120 linux",
         json.dumps({"hv": 1, "os": "5.0", "ov": "5.0",
                     "sdk": {"name": "kinvey-html5-sdk", "version": "4.2.5"}, "pv": "Mozilla"}),
         None, ("html5", "4.2.5")),
        # kinvey-node-sdk 3.x against kinvey.com: "sdk" is the bare package name
        ("js-kinvey-node-sdk/3.12.5 node v10.0.0 linux",
         json.dumps({"hv": 1, "os": "linux", "ov": "5.4", "sdk": "kinvey-node-sdk", "pv": "v10"}),
         None, ("node", "3.12.5")),
        # nativescript, with a device id in the JSON
        (None, json.dumps({"hv": 1, "md": "Pixel", "os": "Android", "ov": "9", "id": UUID,
                           "sdk": {"name": "kinvey-nativescript-sdk", "version": "3.11.6"}}),
         None, ("nativescript", "3.11.6")),
        (None, json.dumps({"hv": 1, "os": "iOS", "ov": "12.1", "sdk": "Kinvey Swift",
                           "sv": "3.20.1"}), None, ("ios", "3.20.1")),
        (None, None, "android-kinvey-http/3.1.9", ("android", "3.1.9")),
        (None, None, "ios-kinvey-http/1.40.2 kcs/4", ("ios", "1.40.2")),
        (None, None, "Python/3.12 aiohttp/3.9.5", ("unknown", "")),
        (None, "not json {", "curl/8.0", ("unknown", "")),
        (None, json.dumps([1, 2]), None, ("unknown", "")),
        (None, None, None, ("unknown", "")),
    ],
)  # fmt: skip
def test_sdk_family_and_version_from_each_header(
    information: str | None, info: str | None, agent: str | None, sdk: tuple[str, str]
) -> None:
    assert parse_sdk(information, info, agent) == sdk
    headers = CIMultiDict(
        (name, value)
        for name, value in (
            ("X-Kinvey-Device-Information", information),
            ("X-Kinvey-Device-Info", info),
            ("User-Agent", agent),
        )
        if value is not None
    )
    assert identify(headers) == ClientIdentity("none", *sdk)


def test_release_numbers_compare_and_bad_config_values_are_refused() -> None:
    assert release_number("2.10.0") > release_number("2.9.9")  # type: ignore[operator]
    assert release_number("none") is None and release_number("unparsed") is None
    assert as_optional_release("2.4") == "2.4.0" and as_optional_release(None) is None
    with pytest.raises(ValueError, match=r"expected a release like 2\.4\.0"):
        as_optional_release("latest")


DOTTED = re.compile(r"\d+(\.\d+){0,3}")
HEADER_VALUES = st.none() | st.text(max_size=300) | st.binary(max_size=300)


@given(release=HEADER_VALUES, information=HEADER_VALUES, info=HEADER_VALUES, agent=HEADER_VALUES)
def test_any_header_values_give_a_bounded_identity_and_never_raise(
    release: str | bytes | None,
    information: str | bytes | None,
    info: str | bytes | None,
    agent: str | bytes | None,
) -> None:
    app_release = parse_app_release(release)
    assert app_release in {"none", "unparsed"} or release_number(app_release) is not None
    assert (app_release == "none") == (release is None)
    family, version = parse_sdk(information, info, agent)
    assert family in SDK_FAMILIES
    assert version == "" or (DOTTED.fullmatch(version) and len(version) <= 27)


@given(
    junk=st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    json_junk=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=20,
    ),
)
def test_device_ids_never_come_out_or_stay_in_a_cache(junk: str, json_junk: object) -> None:
    device_id = uuid.uuid4().hex
    headers = CIMultiDict(
        {
            "X-Kinvey-Device-Information": f"js-html5/1.6.10 {junk} chrome 31 {device_id}",
            "X-Kinvey-Device-Info": json.dumps({"id": device_id, "sdk": json_junk}),
            "User-Agent": f"android-kinvey-http/3.1.9 {device_id}",
            "X-Kinvey-Client-App-Version": "2.3.1",
        }
    )
    identity = identify(headers)
    assert device_id not in repr(identity)
    headers.popall("X-Kinvey-Device-Info")
    headers["User-Agent"] = "curl/8"
    assert device_id not in repr(identify(headers))
    kept = repr(client_identity._sdks) + repr(client_identity._releases)
    assert device_id not in kept


def test_unbounded_distinct_headers_keep_the_caches_bounded() -> None:
    for i in range(client_identity._CACHE_LIMIT + 300):
        identify(CIMultiDict({"X-Kinvey-Client-App-Version": f"1.{i}", "User-Agent": f"a{i}"}))
    assert len(client_identity._releases) <= client_identity._CACHE_LIMIT
    assert len(client_identity._sdks) <= client_identity._CACHE_LIMIT
