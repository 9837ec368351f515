"""Helpers for the emulator tests: the shared Kinvey client on aiohttp's TestClient."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from gateway.emulator import EmulatorConfig
from tests.support.kinvey_client import KinveyClient, Reply, basic


class Api(KinveyClient):
    """Calls one emulator (served by aiohttp's TestClient) as a Kinvey client.

    Each call names its API version; ``app_auth``/``master_auth`` are the emulator's credentials.
    """

    def __init__(self, client: TestClient[Any, Any], config: EmulatorConfig) -> None:
        super().__init__(str(client.make_url("")).rstrip("/"), None, session=client.session)
        self.client = client
        self.config = config
        self.key = config.app_key

    @property
    def app_auth(self) -> str:
        return basic(self.config.app_key, self.config.app_secret)

    @property
    def master_auth(self) -> str:
        return basic(self.config.app_key, self.config.master_secret)

    async def storage(
        self, method: str, url: str, *, data: bytes = b"", headers: dict[str, str] | None = None
    ) -> Reply:
        """A request to an absolute storage URL the emulator handed out (no Kinvey headers)."""
        response = await self.client.session.request(
            method, url, data=data, headers=headers or {}, allow_redirects=False
        )
        return Reply(response.status, response.headers, await response.read())

    async def signup(
        self, version: int, username: str, password: str = "pw", **fields: Any
    ) -> dict[str, Any]:
        body = {"username": username, "password": password, **fields}
        reply = await self.call(
            "POST", f"/user/{self.key}", version=version, auth=self.app_auth, body=body
        )
        assert reply.status == 201, reply.raw
        result: dict[str, Any] = reply.json
        return result

    async def login(
        self, version: int, username: str, password: str = "pw", **fields: Any
    ) -> Reply:
        """A login with the app's credentials, as any Kinvey app sends it."""
        body = {"username": username, "password": password, **fields}
        return await self.call(
            "POST", f"/user/{self.key}/login", version=version, auth=self.app_auth, body=body
        )

    async def login_token(self, version: int, username: str, password: str = "pw") -> str:
        """A session token (v1-v6)."""
        reply = await self.login(version, username, password)
        assert reply.status == 200, reply.raw
        if version >= 6:
            return str(reply.json["authToken"])
        return str(reply.json["_kmd"]["authtoken"])

    async def session(self, version: int, username: str, password: str = "pw") -> str:
        """Sign up ``username`` and return ``Kinvey <token>`` for it."""
        await self.signup(version, username, password)
        return "Kinvey " + await self.login_token(version, username, password)


MakeApi = Callable[..., Awaitable[Api]]
