"""Gateway file URLs carry no credentials, and survive a rotation of the signing secret (issue 12,
item 5).

Old (v0-v2) apps get ``/_gateway/files/<token>`` URLs from upload-loc (the emulator's storage
needs headers they cannot send) and remove-loc. Every token the gateway seals while these tests
run is recorded, opened with the signing secret and searched for the credentials the apps used:
username, password, their Basic header, session token, and the app secret. Redeeming a URL needs
nothing but the URL: the DELETE carries no credentials and still removes the file.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.kinvey.file_tickets import token_of
from gateway.kinvey.signing import SignatureRefused, UrlSigner
from tests.changes.support import AppClient, StartGatewayOnEmulator
from tests.conftest import APP_KEY, APP_SECRET, RunningGateway, StartGateway
from tests.support.kinvey_client import KinveyClient, basic

SIGNING_SECRET = "test-url-signing-secret"  # tests/conftest.py's start_gateway configures it
GATEWAY_FILES = "/_gateway/files/"


@pytest.fixture
def sealed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token any UrlSigner seals during the test."""
    tokens: list[str] = []
    seal = UrlSigner.seal

    def recording(
        self: UrlSigner, method: str, target: str, data: Mapping[str, Any] | None = None
    ) -> str:
        token = seal(self, method, target, data)
        tokens.append(token)
        return token

    monkeypatch.setattr(UrlSigner, "seal", recording)
    return tokens


async def _file_urls(
    gateway: RunningGateway, session: aiohttp.ClientSession, version: int, auth: str, name: str
) -> tuple[str, str]:
    """Upload a file as an old app; its upload URL and a removal URL for it."""
    old = KinveyClient(gateway.url, version, auth, session=session)
    path = f"/blob/{APP_KEY}"
    upload = await old.call(
        "GET", f"{path}/upload-loc/{name}", headers={"Content-Type": "text/plain"}
    )
    assert upload.status == 200, upload.raw
    async with session.put(upload.json["URI"], data=b"bytes") as stored:
        assert stored.status == 200
    removal = await old.call("GET", f"{path}/remove-loc/{name}")
    assert removal.status == 200, removal.raw
    return upload.json["URI"], removal.json["URI"]


def _opened_text(token: str) -> str:
    """Everything a token holds, decrypted: what a thief of the secret would read."""
    signer = UrlSigner(SIGNING_SECRET.encode(), 60)
    for method in ("PUT", "DELETE"):
        try:
            action = signer.open(token, method)
        except SignatureRefused:  # sealed for the other method
            continue
        return json.dumps([action.method, action.target, dict(action.data)])
    raise AssertionError("a token the gateway handed out does not open")


@pytest.mark.parametrize(
    ("version", "pin", "kind"),
    [(0, 6, "basic"), (0, 3, "basic"), (1, 6, "session"), (2, 6, "basic"), (2, 4, "session")],
)
async def test_no_token_handed_out_holds_the_credentials_used(
    start_gateway_on_emulator: StartGatewayOnEmulator,
    http_session: aiohttp.ClientSession,
    sealed: list[str],
    version: int,
    pin: int,
    kind: str,
) -> None:
    gateway = await start_gateway_on_emulator(pin, versions=(pin, 6))
    username, password = f"fay-{version}-{pin}", "fay-password-9"
    assert (
        await AppClient(gateway.url, 3, session=http_session).signup(username, password)
    ).status == 201
    secrets = [username, password, APP_SECRET, basic(username, password).split()[1]]
    auth = basic(username, password)
    if kind == "session":
        login = await AppClient(gateway.url, version, session=http_session).login(
            username, password
        )
        session_token = login.json["_kmd"]["authtoken"]
        secrets.append(session_token)
        auth = f"Kinvey {session_token}"
    upload, removal = await _file_urls(gateway, http_session, version, auth, "report.txt")
    for url in (upload, removal):
        assert url.startswith(gateway.url + GATEWAY_FILES)
    assert sealed and {token_of(url[len(gateway.url) :]) for url in (upload, removal)} <= set(
        sealed
    )
    assert all("report.txt" in _opened_text(token) for token in sealed)  # decoding works
    for token in sealed:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        opened = _opened_text(token)
        for secret in secrets:
            assert secret not in opened and secret not in token
            assert secret.encode() not in raw
            assert base64.b64encode(secret.encode()).decode() not in opened
    async with http_session.delete(removal) as deleted:  # no credentials: the URL is enough
        assert deleted.status == 204
    gone = await KinveyClient(gateway.url, version, auth, session=http_session).call(
        "GET", f"/blob/{APP_KEY}/download-loc/report.txt"
    )
    assert gone.status == 404


@pytest.mark.parametrize("kept_as", ["previous_secret", "previous_secrets_file"])
async def test_urls_handed_out_before_a_secret_rotation_still_work_until_they_expire(
    start_emulator: Any,
    start_gateway: StartGateway,
    http_session: aiohttp.ClientSession,
    tmp_path: Path,
    kept_as: str,
) -> None:
    emulator = await start_emulator(min_api_version=3, max_api_version=6)
    before = await start_gateway(emulator, pin=4)  # signs with the shared test secret
    assert (await AppClient(before.url, 3, session=http_session).signup("gus", "pw")).status == 201
    _, removal = await _file_urls(before, http_session, 2, basic("gus", "pw"), "a.txt")
    token_path = removal[len(before.url) :]
    rotated_env = {"KINVEY_GATEWAY_URL_SIGNING_SECRET": "the-new-secret"}
    if kept_as == "previous_secret":
        rotated_env["KINVEY_GATEWAY_URL_SIGNING_PREVIOUS_SECRET"] = SIGNING_SECRET
    else:
        older = tmp_path / "previous-secrets"
        older.write_text(f"an-even-older-secret\n\n{SIGNING_SECRET}\n")
        rotated_env["KINVEY_GATEWAY_URL_SIGNING_PREVIOUS_SECRETS_FILE"] = str(older)
    rotated = await start_gateway(emulator, pin=4, environ=rotated_env)
    forgotten = await start_gateway(
        emulator, pin=4, environ={"KINVEY_GATEWAY_URL_SIGNING_SECRET": "the-new-secret"}
    )
    async with http_session.delete(forgotten.url + token_path) as refused:
        assert refused.status == 403  # the old key is no longer configured there
        assert (await refused.json())["error"] == "InsufficientCredentials"
    async with http_session.delete(rotated.url + token_path) as deleted:
        assert deleted.status == 204
    _, fresh = await _file_urls(rotated, http_session, 2, basic("gus", "pw"), "b.txt")
    async with http_session.delete(before.url + fresh[len(rotated.url) :]) as unknown:
        assert unknown.status == 403  # new URLs are sealed with the new key only


async def test_a_removal_url_redeemed_where_the_app_has_no_secret_deletes_nothing(
    start_emulator: Any, start_gateway: StartGateway, http_session: aiohttp.ClientSession
) -> None:
    """The URL carries no credentials, so without the app's own there is nothing to delete with."""
    emulator = await start_emulator(min_api_version=3, max_api_version=6)
    issuing = await start_gateway(emulator, pin=4)
    assert (await AppClient(issuing.url, 3, session=http_session).signup("hal", "pw")).status == 201
    _, removal = await _file_urls(issuing, http_session, 1, basic("hal", "pw"), "c.txt")
    secretless = await start_gateway(
        emulator, pin=4, environ={f"KINVEY_GATEWAY_APP_SECRET_{APP_KEY}": ""}
    )
    async with http_session.delete(secretless.url + removal[len(issuing.url) :]) as refused:
        assert refused.status == 500
        assert (await refused.json())["error"] == "KinveyInternalErrorStop"
    async with http_session.delete(removal) as deleted:  # the file was left alone
        assert deleted.status == 204
