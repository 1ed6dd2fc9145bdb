"""Config vars as a platform hands them to a build: a folder with one file per variable, read
as bytes and never evaluated. The classic API's ENV_DIR and the CNB API's $CNB_PLATFORM_DIR/env
have this form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from herokuify_buildpack.config import BUILDING_MARKER, secret_values

_VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Names the platform, the Python runtime or the build itself own: a config var must not change
# how the build runs.
_RESERVED = frozenset(
    {
        "PATH", "HOME", "STACK", "DYNO", "BUILD_DIR", "CACHE_DIR", "ENV_DIR", "LANG",
        "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONSAFEPATH",
        "LD_PRELOAD", "LD_LIBRARY_PATH", "LIBRARY_PATH", "CPATH", "GIT_DIR", BUILDING_MARKER,
    }
)  # fmt: skip


@dataclass
class ConfigVars:
    values: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)  # why each odd entry was left out

    def secret_values(self) -> list[str]:
        return secret_values(self.values)


def read_env_dir(env_dir: Path, shown_as: str = "ENV_DIR") -> ConfigVars:
    """``shown_as``: what the platform calls the folder, for the reasons an entry is ignored."""
    found = ConfigVars()
    if not env_dir.is_dir():
        return found
    for entry in sorted(env_dir.iterdir()):
        name = entry.name
        if not _VALID_NAME.match(name):
            found.ignored.append(f"{name!r} is not a valid environment variable name")
        elif name in _RESERVED:
            found.ignored.append(f"{name} is set by the platform, not by config vars")
        elif entry.is_symlink() or not entry.is_file():
            found.ignored.append(f"{name} is not a regular file in {shown_as}")
        else:
            # Bytes that are not UTF-8 survive the round trip into os.environ unchanged.
            found.values[name] = entry.read_bytes().decode("utf-8", "surrogateescape")
    return found
