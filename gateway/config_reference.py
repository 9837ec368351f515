"""Render the configuration reference (docs/configuration.md) from the settings table.

``python -m gateway.config_reference > docs/configuration.md``; a test keeps the copy current.
"""

from __future__ import annotations

from typing import Any

from gateway.config_app_fields import APP_FIELDS
from gateway.config_schema import APP_SECRET_ENV_PREFIX, FIELDS


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"`{value}`"


def render() -> str:
    lines = [
        "# Configuration reference",
        "",
        "Generated from `gateway/config_schema.py` by `python -m gateway.config_reference`.",
        "Precedence: command-line flag > environment variable > YAML file > default.",
        "The commented example file is `config/gateway.yaml`; `kinvey-gateway check-config FILE`",
        "validates a file and prints the effective settings with secrets redacted.",
        "",
        "| setting | environment variable | default | meaning |",
        "|---|---|---|---|",
    ]
    for field in FIELDS:
        lines.append(f"| `{field.path}` | `{field.env}` | {_shown(field.default)} | {field.help} |")
    lines += [
        "",
        "## Per app: `apps.<appKey>.*`",
        "",
        f"An app's secret can also come from `{APP_SECRET_ENV_PREFIX}<appKey>` (the app key as it",
        "is, e.g. `KINVEY_GATEWAY_APP_SECRET_kid_HkI2u1vGZ`), which wins over the file.",
        "",
        "| setting | default | meaning |",
        "|---|---|---|",
    ]
    for field in APP_FIELDS:
        lines.append(f"| `{field.path}` | {_shown(field.default)} | {field.help} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
