"""The packages the build needs from the app's requirements.txt.

They are not installed behind the app's back: versions stay pinned where the app pins them, and
the build needs no network. A missing one fails the build with the exact line to add.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path

# The oldest Django the storages and the build work with: 3.2 LTS, through the legacy
# STATICFILES_STORAGE and DEFAULT_FILE_STORAGE names before 4.2.
DJANGO_FLOOR = (3, 2)
DJANGO_LINE = f"Django>={DJANGO_FLOOR[0]}.{DJANGO_FLOOR[1]}"
SUPPORTED_DJANGO = "Django 3.2 LTS to 6.x"

# Django series that import a module a later Python removed, and the newest Python they run on:
# 3.2 and 4.0 import cgi, which Python 3.13 dropped, and heroku/python's default is newer still.
_NEWEST_PYTHON = {(3, 2): (3, 12), (4, 0): (3, 12)}

# Django's own version line: VERSION = (5, 2, 19, "final", 0)
_VERSION_LINE = re.compile(r"""^VERSION = \((\d+), (\d+), (\d+), ["'](\w+)["']""", re.MULTILINE)

# Import name -> the requirements.txt line that provides it.
_NEEDED = {
    "django": DJANGO_LINE,
    "storages": "django-storages[s3]>=1.14",
    "boto3": "boto3>=1.28",
}


def missing_lines() -> list[str]:
    return [line for module, line in _NEEDED.items() if importlib.util.find_spec(module) is None]


def installed_django() -> str | None:
    """The installed Django's version, from the VERSION line of its ``__init__.py``: Django is
    not imported (an old one may not import on this Python), and importlib.metadata would cost
    more than the rest of an unchanged redeploy's checks."""
    spec = importlib.util.find_spec("django")
    if spec is None or spec.origin is None:
        return None  # missing_lines names it
    found = _VERSION_LINE.search(Path(spec.origin).read_text(errors="replace"))
    if found is None:
        return None
    major, minor, micro, level = found.groups()
    return f"{major}.{minor}.{micro}" + ("" if level == "final" else level)


def too_old_django(version: str) -> bool:
    return django_series(version) < DJANGO_FLOOR


@dataclass(frozen=True)
class PythonTooNew:
    django: str  # the installed Django's version
    python: str  # the running Python's version
    newest: str  # the newest Python that Django series runs on, major.minor


def python_too_new_for_django(
    version: str, python: tuple[int, ...] = sys.version_info[:3]
) -> PythonTooNew | None:
    """The mismatch if Django ``version`` cannot import on this Python (default: the running
    one): it would fail inside django.setup(), where the settings would wrongly take the blame."""
    newest = _NEWEST_PYTHON.get(django_series(version))
    if newest is None or python[:2] <= newest:
        return None
    return PythonTooNew(version, ".".join(map(str, python)), "{}.{}".format(*newest))


def django_series(version: str) -> tuple[int, int]:
    """(major, minor) of a version string such as "3.1.14" or "5.0rc1"."""
    found = re.match(r"(\d+)\.(\d+)", version)
    return (int(found[1]), int(found[2])) if found else (0, 0)
