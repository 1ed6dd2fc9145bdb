"""Config vars, read from ENV_DIR files (one file per var) without ever evaluating them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

_VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Names the platform or the Python runtime own: a config var must not change how the build runs.
_RESERVED = frozenset(
    {
        "PATH", "HOME", "STACK", "DYNO", "BUILD_DIR", "CACHE_DIR", "ENV_DIR", "LANG",
        "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONSAFEPATH",
        "LD_PRELOAD", "LD_LIBRARY_PATH", "LIBRARY_PATH", "CPATH", "GIT_DIR",
    }
)  # fmt: skip

# Values that are safe to print; every other value is masked in all output.
_NOT_SECRET = frozenset(
    {
        "AWS_STORAGE_BUCKET_NAME", "BUCKETEER_BUCKET_NAME", "AWS_S3_REGION_NAME",
        "BUCKETEER_AWS_REGION", "AWS_S3_ENDPOINT_URL", "AWS_S3_CUSTOM_DOMAIN",
        "DJANGO_SETTINGS_MODULE", "DISABLE_COLLECTSTATIC",
    }
)  # fmt: skip


@dataclass
class ConfigVars:
    values: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def secret_values(self) -> list[str]:
        secrets = []
        for name, value in self.values.items():
            if name in _NOT_SECRET or name.startswith("HEROKUIFY_"):
                continue
            secrets.append(value)
            secrets.extend(_url_password(value))
        return secrets


def read_env_dir(env_dir: Path) -> ConfigVars:
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
            found.ignored.append(f"{name} is not a regular file in ENV_DIR")
        else:
            # Bytes that are not UTF-8 survive the round trip into os.environ unchanged.
            found.values[name] = entry.read_bytes().decode("utf-8", "surrogateescape")
    return found


def _url_password(value: str) -> list[str]:
    """A password inside a URL (DATABASE_URL and the like) may be printed on its own."""
    try:
        password = urlsplit(value.strip()).password
    except ValueError:
        return []
    return [password] if password else []
