"""The packages the build needs from the app's requirements.txt.

They are not installed behind the app's back: versions stay pinned where the app pins them, and
the build needs no network. A missing one fails the build with the exact line to add.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re

# The oldest Django the storages and the build work with: 3.2 LTS, through the legacy
# STATICFILES_STORAGE and DEFAULT_FILE_STORAGE names before 4.2.
DJANGO_FLOOR = (3, 2)
DJANGO_LINE = f"Django>={DJANGO_FLOOR[0]}.{DJANGO_FLOOR[1]}"
SUPPORTED_DJANGO = "Django 3.2 LTS to 6.x"

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


def django_series(version: str) -> tuple[int, int]:
    """(major, minor) of a version string such as "3.1.14" or "5.0rc1"."""
    found = re.match(r"(\d+)\.(\d+)", version)
    return (int(found[1]), int(found[2])) if found else (0, 0)
