"""What each real SDK generation sends to identify itself, and what the gateway makes of it.

Each flavour's app starts with an app release set in the SDK's own init option
(``clientAppVersion`` in kinvey@1.7.0, ``appVersion`` in kinvey-node-sdk 3 and kinvey-js-sdk 7)
and pings, via tests/sdk/identity_probe.js: first against a recording server (the headers on
the wire are the record, and the parser must read them), then through a real gateway whose
access log must name the same release and SDK.

What the recordings show (and the assertions pin): kinvey@1.7.0 sends
``X-Kinvey-Device-Information: js-nodejs/1.7.0 /usr/bin/node v20.20.2 linux unknown``;
kinvey-js-sdk 7 with the html5 adapters sends that string (``js-kinvey-html5-sdk/4.2.5 ...``)
and the JSON ``X-Kinvey-Device-Info``; kinvey-node-sdk 3 adds its device headers only to
URLs matching ``/kinvey\\.com/`` (its http middleware), so pointed at any other host (a
gateway at its own name) it sends no SDK identity at all: ``unknown``, but its release counts.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict

from gateway.kinvey.client_identity import ClientIdentity, identify
from tests.sdk.harness import APP_KEY, APP_SECRET, SDK_DIR, Service, gateway

PROBE_TIMEOUT_S = 120  # a bound, not an expectation: a probe takes about a second
EXPECTED = {  # flavour -> (release it sets, SDK identity the gateway must read)
    "v3": ("2.3.1", ("node", "1.7.0")),
    "v4": ("2.4", ("unknown", "")),
    "v6": ("3.0.0-beta.1", ("html5", "4.2.5")),
}
NORMALIZED = {"2.3.1": "2.3.1", "2.4": "2.4.0", "3.0.0-beta.1": "3.0.0"}


class Recorder(BaseHTTPRequestHandler):
    """Answers every request like a Kinvey handshake and keeps its headers."""

    seen: list[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append(list(self.headers.items()))
        body = json.dumps({"version": "3.9.9", "kinvey": f"hello {APP_KEY}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Kinvey-API-Version", "6")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[list[tuple[str, str]]]]]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", Recorder.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def run_probe(node: str, flavour: str, base_url: str, release: str) -> dict[str, Any]:
    """The probe's outcome line: ``{"ok": true, ...}`` or what the app saw fail."""
    result = subprocess.run(
        [node, str(SDK_DIR / "identity_probe.js"), flavour, base_url, APP_KEY, APP_SECRET, release],
        cwd=SDK_DIR,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, f"probe {flavour}: exit {result.returncode}\n{result.stderr[-3000:]}"
    outcome: dict[str, Any] = json.loads(lines[-1])
    outcome["stderr"] = result.stderr[-3000:]
    return outcome


def probe(node: str, flavour: str, base_url: str, release: str) -> None:
    outcome = run_probe(node, flavour, base_url, release)
    assert outcome["ok"] is True, f"probe {flavour} failed: {outcome}"


def access_lines(log_path: Path, release: str) -> list[dict[str, Any]]:
    entries = []
    for line in log_path.read_text(errors="replace").splitlines():
        if line.startswith('{"time"') and '"log":"access"' in line:
            entry = json.loads(line)
            if entry.get("app_release") == release:
                entries.append(entry)
    return entries


@pytest.mark.parametrize("flavour", sorted(EXPECTED))
def test_each_sdk_generation_is_identified_by_what_it_sends(
    node: str,
    flavour: str,
    recorder: tuple[str, list[list[tuple[str, str]]]],
    gateway_pinned_to_6: Service,
) -> None:
    release, sdk = EXPECTED[flavour]
    recorder_url, seen = recorder
    probe(node, flavour, recorder_url, release)

    assert seen, f"{flavour} sent nothing"
    for headers in seen:
        recorded = CIMultiDict(headers)
        assert recorded.get("X-Kinvey-Client-App-Version") == release, headers
        assert identify(recorded) == ClientIdentity(NORMALIZED[release], *sdk), headers
    first = CIMultiDict(seen[0])
    if flavour == "v3":
        # process.title, process.version, process.platform, then "unknown" for the device id
        assert first["X-Kinvey-Device-Information"].startswith("js-nodejs/1.7.0 ")
        assert first["X-Kinvey-Device-Information"].endswith(" linux unknown")
        assert "X-Kinvey-Device-Info" not in first
    elif flavour == "v4":
        assert "X-Kinvey-Device-Information" not in first and "X-Kinvey-Device-Info" not in first
    else:
        assert first["X-Kinvey-Device-Information"].startswith("js-kinvey-html5-sdk/4.2.5 ")
        info = json.loads(first["X-Kinvey-Device-Info"])
        assert info["sdk"] == {"name": "kinvey-html5-sdk", "version": "4.2.5"}

    probe(node, flavour, gateway_pinned_to_6.url, release)
    deadline = time.monotonic() + 10  # the access log is flushed a few times a second
    entries = access_lines(gateway_pinned_to_6.log_path, NORMALIZED[release])
    while not entries and time.monotonic() < deadline:
        time.sleep(0.2)
        entries = access_lines(gateway_pinned_to_6.log_path, NORMALIZED[release])
    assert entries, gateway_pinned_to_6.log_tail()
    assert {(e["sdk"], e["sdk_version"]) for e in entries} == {sdk}
    assert all(e["release_retired"] is None and e["status"] == 200 for e in entries), entries


MESSAGE = "Release 2.3 is retired: please update the app."


@pytest.fixture(scope="module")
def gateway_retiring_2_3(
    v6_only_emulator: Service, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    workdir = tmp_path_factory.mktemp("retiring")
    config = workdir / "gateway.yaml"
    policy = {"min_client_app_version": "2.4", "retired_message": MESSAGE}
    config.write_text(json.dumps({"apps": {APP_KEY: policy}}))
    with gateway(v6_only_emulator.url, 6, workdir, config) as service:
        yield service


@pytest.mark.parametrize("flavour", sorted(EXPECTED))
def test_each_sdk_hands_the_retirement_message_to_the_app(
    node: str, flavour: str, gateway_retiring_2_3: Service
) -> None:
    """400 FeatureUnavailable reaches the app as an error carrying the operator's message."""
    outcome = run_probe(node, flavour, gateway_retiring_2_3.url, "2.3.9")

    assert outcome["ok"] is False, outcome
    assert "FeatureUnavailable" in str(outcome["name"]), outcome
    assert outcome["message"] == MESSAGE, outcome
    probe(node, flavour, gateway_retiring_2_3.url, "2.4.0")  # the current release is served
