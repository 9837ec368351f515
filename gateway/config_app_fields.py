"""The table of per-app settings (``apps.<appKey>.<name>`` in the YAML file).

Each is a ``Field`` like the global ones (``config_schema``), named without the prefix; the
app's secret may also come from ``KINVEY_GATEWAY_APP_SECRET_<appKey>`` (``settings_apps``).
"""

from __future__ import annotations

from gateway.config_schema import Field
from gateway.config_values import (
    as_bool,
    as_optional_path,
    as_optional_release,
    as_optional_str,
    as_optional_url,
    as_optional_version,
)

APP_FIELDS: tuple[Field, ...] = (
    Field(
        "default_client_api_version",
        as_optional_version,
        None,
        "version assumed when a request has no X-Kinvey-API-Version (default: the pin)",
        lowest_version=0,
    ),
    Field(
        "min_client_api_version",
        as_optional_version,
        0,
        "older clients get 400",
        lowest_version=0,
    ),
    Field("app_secret", as_optional_str, None, "the app secret", secret=True),
    Field("app_secret_file", as_optional_path, None, "file holding the app secret"),
    Field("upstream_url", as_optional_url, None, "this app's upstream (default: upstream.url)"),
    Field(
        "upstream_api_version",
        as_optional_version,
        None,
        "this app's pin (default: upstream.api_version)",
        lowest_version=3,
    ),
    Field(
        "min_client_app_version",
        as_optional_release,
        None,
        "requests from older app releases (X-Kinvey-Client-App-Version) get 400 "
        "FeatureUnavailable without reaching the upstream; no header is never refused",
    ),
    Field(
        "retired_message",
        as_optional_str,
        None,
        "what a refused release is told (the error description; default: please update)",
    ),
    Field(
        "report_only",
        as_bool,
        False,
        "count requests min_client_app_version would refuse, but let them through",
    ),
    Field(
        "shadow_upstream_url",
        as_optional_url,
        None,
        "this app's candidate upstream for shadow comparison (default: shadow.upstream_url)",
    ),
)

APP_FIELDS_BY_NAME: dict[str, Field] = {f.path: f for f in APP_FIELDS}
