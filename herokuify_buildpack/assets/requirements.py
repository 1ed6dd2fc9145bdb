"""The packages the build needs from the app's requirements.txt.

They are not installed behind the app's back: versions stay pinned where the app pins them, and
the build needs no network. A missing one fails the build with the exact line to add.
"""

from __future__ import annotations

import importlib.util

# Import name -> the requirements.txt line that provides it.
_NEEDED = {
    "django": "Django>=4.2",
    "storages": "django-storages[s3]>=1.14",
    "boto3": "boto3>=1.28",
}


def missing_lines() -> list[str]:
    return [line for module, line in _NEEDED.items() if importlib.util.find_spec(module) is None]
