"""Settings of the built-in Kinvey emulator (one app, one environment, a range of API versions)."""

from __future__ import annotations

from dataclasses import dataclass

NEWEST_API_VERSION = 6


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """What the emulator serves.

    ``min_api_version``..``max_api_version`` is the range of ``X-Kinvey-API-Version`` values it
    answers (anything else gets ``400 APIVersionNotAvailable``); a request without the header is
    served at ``default_api_version``. ``public_base_url`` is the base of the storage URLs it hands
    out (None: the scheme and ``Host`` of the request that asked for the URL).
    """

    min_api_version: int = 0
    max_api_version: int = NEWEST_API_VERSION
    default_api_version: int = NEWEST_API_VERSION
    app_key: str = "kid_demo"
    app_secret: str = "demo-secret"
    master_secret: str = "demo-master"
    result_set_limit: int = 10000
    public_base_url: str | None = None
    app_name: str = "Kinvey Emulator"
    environment_name: str = "Development"

    def __post_init__(self) -> None:
        if not 0 <= self.min_api_version <= self.max_api_version <= NEWEST_API_VERSION:
            raise ValueError(
                f"API versions must satisfy 0 <= min ({self.min_api_version}) <= max "
                f"({self.max_api_version}) <= {NEWEST_API_VERSION}"
            )
        if not self.min_api_version <= self.default_api_version <= self.max_api_version:
            raise ValueError(
                f"default_api_version {self.default_api_version} is outside "
                f"{self.min_api_version}..{self.max_api_version}"
            )
        if self.result_set_limit < 1:
            raise ValueError("result_set_limit must be at least 1")
        if not self.app_key or not self.app_secret or not self.master_secret:
            raise ValueError("app_key, app_secret and master_secret must not be empty")
        if self.app_secret == self.master_secret:
            raise ValueError("app_secret and master_secret must differ")
