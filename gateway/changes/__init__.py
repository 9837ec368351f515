"""Every version change, discovered from the modules named ``v<N>_<verb_phrase>.py`` here.

Adding a change is adding a file: nothing else lists them. Within a version, changes keep the
order of their file names, then of their definition in the file.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from gateway.versioning.bundle import VersionBundle
from gateway.versioning.change import MalformedChangeError, VersionChange

_MODULE_NAME = re.compile(r"^v(\d+)_[a-z0-9_]+$")


def discover() -> list[type[VersionChange]]:
    found: list[type[VersionChange]] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        match = _MODULE_NAME.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        classes = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, VersionChange)
            and value is not VersionChange
            and value.__module__ == module.__name__
        ]
        if not classes:
            raise MalformedChangeError(f"{module.__name__}: defines no VersionChange")
        for change in classes:
            if change.introduced_in != int(match.group(1)):
                raise MalformedChangeError(
                    f"{module.__name__}.{change.__qualname__}: introduced_in "
                    f"{change.introduced_in} does not match the file name v{match.group(1)}"
                )
        found.extend(classes)
    return found


BUNDLE = VersionBundle(discover())
