"""Which app release and which SDK sent a request, read from headers the Kinvey clients send.

``X-Kinvey-Client-App-Version`` is set by the app (Kinvey business logic reads it as
major.minor.patch); the SDKs describe themselves in ``X-Kinvey-Device-Information`` (a string:
``js-<package>/<version> <platform> <version> <manufacturer> [<device id>]`` from the JS SDKs,
``<manufacturer>/<model> Android <os version> <device id>`` from old Android ones, or just
``<platform> <browser> <version> <x>``), in ``X-Kinvey-Device-Info`` (JSON, newer SDKs:
``{"hv": 1, "os": ..., "sdk": {"name", "version"} | "<name>", ...}``) or in ``User-Agent``.

Every header value is hostile input: any length, any characters. Parsing never raises, reads
at most ``MAX_HEADER_CHARS`` of a value, and keeps only a family from a fixed set plus a
short dotted version number, so a device identifier can never come out of here. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Final, NamedTuple

APP_VERSION_HEADER: Final = "X-Kinvey-Client-App-Version"
DEVICE_INFORMATION_HEADER: Final = "X-Kinvey-Device-Information"
DEVICE_INFO_HEADER: Final = "X-Kinvey-Device-Info"

NO_RELEASE: Final = "none"  # no X-Kinvey-Client-App-Version header at all
UNPARSED_RELEASE: Final = "unparsed"  # a header that is no major[.minor[.patch]] number
UNKNOWN_SDK: Final = "unknown"
MAX_HEADER_CHARS: Final = 512  # a longer value is cut before it is looked at
_CACHE_LIMIT: Final = 4096

# "2", "2.3", "v2.3.1", "2.3.1-beta+45", "2.3.1 (build 45)": the number, each part <= 6 digits.
_RELEASE = re.compile(r"[vV]?(\d{1,6})(?:\.(\d{1,6}))?(?:\.(\d{1,6}))?(?:[-+ _(].{0,64})?")
_VERSION = re.compile(r"v?(\d{1,6}(?:\.\d{1,6}){0,3})", re.ASCII)
_JS_PREFIX = re.compile(r"js-([a-z0-9_.@/-]{1,64})/(\S{1,32})", re.ASCII)
_USER_AGENT = re.compile(
    r"(android|ios|java|dotnet|xamarin)-kinvey-http/(\S{1,32})|kinvey(?:[ -]swift)? sdk (\S{1,32})",
    re.ASCII,
)

# SDK package or platform names (lower case) to the family reported for them.
_FAMILIES: Final = {
    "nodejs": "node", "node": "node", "kinvey-node-sdk": "node",
    "html5": "html5", "kinvey-html5-sdk": "html5", "chrome": "html5", "firefox": "html5",
    "safari": "html5", "msie": "html5", "opera": "html5",
    "kinvey-js-sdk": "js", "js": "js", "kinvey": "js",
    "phonegap": "phonegap", "kinvey-phonegap-sdk": "phonegap", "cordova": "phonegap",
    "titanium": "titanium", "kinvey-titanium-sdk": "titanium",
    "angular": "angular", "angularjs": "angular", "kinvey-angular-sdk": "angular",
    "kinvey-angular2-sdk": "angular", "backbone": "backbone", "kinvey-backbone-sdk": "backbone",
    "nativescript": "nativescript", "kinvey-nativescript-sdk": "nativescript",
    "react-native": "react-native", "kinvey-react-native-sdk": "react-native",
    "android": "android", "ios": "ios", "iphone os": "ios", "kinvey swift": "ios",
    "swift": "ios", "java": "java", "dotnet": "dotnet", "xamarin": "dotnet",
}  # fmt: skip
SDK_FAMILIES: Final = (*sorted(set(_FAMILIES.values())), UNKNOWN_SDK)


class ClientIdentity(NamedTuple):
    """What a request says about its sender: never a device id, never a user (a NamedTuple:
    one is made per request, and a tuple is the cheapest immutable record to make)."""

    app_release: str  # "2.3.1", "none" (no header) or "unparsed"
    sdk: str  # a family from SDK_FAMILIES
    sdk_version: str  # "4.2.5", or "" when the headers do not say

    @property
    def sdk_label(self) -> str:
        """``family/version`` (``html5/4.2.5``), or the family alone when no version is known."""
        return f"{self.sdk}/{self.sdk_version}" if self.sdk_version else self.sdk


def _text(raw: str | bytes | None) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bytes):
        return raw[:MAX_HEADER_CHARS].decode("latin-1")
    return raw[:MAX_HEADER_CHARS]


def parse_app_release(raw: str | bytes | None) -> str:
    """``X-Kinvey-Client-App-Version`` as normalized ``major.minor.patch`` (missing parts 0)."""
    text = _text(raw)
    if text is None:
        return NO_RELEASE
    match = _RELEASE.fullmatch(text.strip())
    if match is None or not match.group(1).isascii():  # \d also matches other scripts' digits
        return UNPARSED_RELEASE
    parts = [int(p) if p and p.isascii() else 0 for p in match.group(1, 2, 3)]
    return f"{parts[0]}.{parts[1]}.{parts[2]}"


def release_number(release: str) -> tuple[int, int, int] | None:
    """A normalized release back to numbers (for ``min_client_app_version`` comparisons)."""
    parts = release.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def _version(raw: object) -> str:
    match = _VERSION.match(raw.strip()) if isinstance(raw, str) else None
    return match.group(1) if match else ""


def _family(name: object) -> str | None:
    if not isinstance(name, str):
        return None
    name = name.strip().lower()
    return _FAMILIES.get(name) or _FAMILIES.get(name.removeprefix("@kinvey/"))


def _from_device_info(raw: str) -> tuple[str, str] | None:
    """The JSON header: ``sdk`` is ``{"name", "version"}`` (html5, nativescript) or a name."""
    try:
        info = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(info, dict):
        return None
    sdk = info.get("sdk")
    if isinstance(sdk, dict):
        family = _family(sdk.get("name"))
        if family:
            return family, _version(sdk.get("version"))
    family = _family(sdk) or _family(info.get("os"))
    return (family, _version(info.get("sv"))) if family else None


def _from_device_information(raw: str) -> tuple[str, str] | None:
    text = raw.strip().lower()
    js = _JS_PREFIX.match(text)
    if js is not None:
        return _family(js.group(1)) or "js", _version(js.group(2))
    words = text.split()
    for word in words[:3]:  # "samsung/galaxy_nexus android 4.2.2 <id>", "linux chrome 18 0"
        family = _family(word)
        if family:
            return family, ""
    return None


def _from_user_agent(raw: str) -> tuple[str, str] | None:
    match = _USER_AGENT.search(raw.lower())
    if match is None:
        return None
    if match.group(1):
        return _family(match.group(1)) or UNKNOWN_SDK, _version(match.group(2))
    return "ios", _version(match.group(3))


def parse_sdk(
    device_information: str | bytes | None,
    device_info: str | bytes | None,
    user_agent: str | bytes | None,
) -> tuple[str, str]:
    """(family, version) from the first header that names a known SDK or platform; a later
    header may add the version when it names the same family."""
    readers = (
        (_from_device_info, device_info),
        (_from_device_information, device_information),
        (_from_user_agent, user_agent),
    )
    first: tuple[str, str] | None = None
    for reader, raw in readers:
        text = _text(raw)
        found = reader(text) if text else None
        if found is None:
            continue
        if found[1]:  # a version: unless an earlier header named another family, done
            return first if first is not None and first[0] != found[0] else found
        first = first or found
    return first or (UNKNOWN_SDK, "")


def _leading_words(value: str | None) -> str | None:
    """What ``_from_device_information`` reads: the first three words; a device id comes
    after them in every format the SDKs send."""
    return None if value is None else " ".join(value[:MAX_HEADER_CHARS].split(None, 3)[:3])


_releases: dict[str | None, str] = {}
_sdks: dict[tuple[str | None, str | None], tuple[str, str]] = {}


def identify(headers: Mapping[str, str]) -> ClientIdentity:
    """A request's identity; a repeated client costs two dict lookups.

    Cache keys never hold a device id: the device information string is cut to its leading
    words first, and a JSON ``X-Kinvey-Device-Info`` (which may carry an id) is parsed every
    time, never kept. Both caches are bounded; past the limit values are parsed, not kept.
    """
    raw_release = headers.get(APP_VERSION_HEADER)
    release = _releases.get(raw_release)
    if release is None:
        release = parse_app_release(raw_release)
        if len(_releases) < _CACHE_LIMIT:
            _releases[raw_release] = release
    device_info = headers.get(DEVICE_INFO_HEADER)
    if device_info is not None:
        sdk = parse_sdk(
            headers.get(DEVICE_INFORMATION_HEADER), device_info, headers.get("User-Agent")
        )
        return ClientIdentity(release, *sdk)
    key = (_leading_words(headers.get(DEVICE_INFORMATION_HEADER)), headers.get("User-Agent"))
    found = _sdks.get(key)
    if found is None:
        found = parse_sdk(key[0], None, key[1])
        if len(_sdks) < _CACHE_LIMIT:
            _sdks[key] = found
    return ClientIdentity(release, *found)
