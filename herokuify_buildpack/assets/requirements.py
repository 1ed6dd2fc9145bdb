"""The packages the build needs from the app's requirements.txt.

They are not installed behind the app's back: versions stay pinned where the app pins them, and
the build needs no network. A missing one fails the build with the exact line to add.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import sys
from dataclasses import dataclass

# The oldest Django the storages and the build work with: 3.2 LTS, through the legacy
# STATICFILES_STORAGE and DEFAULT_FILE_STORAGE names before 4.2.
DJANGO_FLOOR = (3, 2)
DJANGO_LINE = f"Django>={DJANGO_FLOOR[0]}.{DJANGO_FLOOR[1]}"
SUPPORTED_DJANGO = "Django 3.2 LTS to 6.x"

# Django series that import a module a later Python removed, and the newest Python they run on:
# 3.2 and 4.0 import cgi, which Python 3.13 dropped, and heroku/python's default is newer still.
_NEWEST_PYTHON = {(3, 2): (3, 12), (4, 0): (3, 12)}

# Import name -> the requirements.txt line that provides it.
_NEEDED = {
    "django": DJANGO_LINE,
    "storages": "django-storages[s3]>=1.14",
    "boto3": "boto3>=1.28",
}


def missing_lines() -> list[str]:
    return [line for module, line in _NEEDED.items() if importlib.util.find_spec(module) is None]


def too_old_django() -> str | None:
    """The installed Django's version if it is older than the floor. Read from the package's
    metadata, not by importing it: an old Django may not even import on this Python."""
    try:
        version = importlib.metadata.version("Django")
    except importlib.metadata.PackageNotFoundError:
        return None  # missing_lines names it
    return version if django_series(version) < DJANGO_FLOOR else None


@dataclass(frozen=True)
class PythonTooNew:
    django: str  # the installed Django's version
    python: str  # the running Python's version
    newest: str  # the newest Python that Django series runs on, major.minor


def python_too_new_for_django(
    python: tuple[int, ...] = sys.version_info[:3],
) -> PythonTooNew | None:
    """The mismatch if the installed Django cannot import on this Python (default: the running
    one). Read from metadata: such a Django fails inside django.setup(), where the settings
    would wrongly take the blame."""
    try:
        version = importlib.metadata.version("Django")
    except importlib.metadata.PackageNotFoundError:
        return None  # missing_lines names it
    newest = _NEWEST_PYTHON.get(django_series(version))
    if newest is None or python[:2] <= newest:
        return None
    return PythonTooNew(version, ".".join(map(str, python)), "{}.{}".format(*newest))


def django_series(version: str) -> tuple[int, int]:
    """(major, minor) of a version string such as "3.1.14" or "5.0rc1"."""
    found = re.match(r"(\d+)\.(\d+)", version)
    return (int(found[1]), int(found[2])) if found else (0, 0)
