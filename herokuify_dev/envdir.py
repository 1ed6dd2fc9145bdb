"""ENV_DIR as the platform writes it: one file per config var, named after it, holding its value."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def write_env_dir(env_dir: Path, config_vars: Mapping[str, str | bytes]) -> None:
    env_dir.mkdir(parents=True, exist_ok=True)
    for name, value in config_vars.items():
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"not a config var name: {name!r}")
        # The value's bytes exactly, with no trailing newline, as Heroku writes them.
        (env_dir / name).write_bytes(value if isinstance(value, bytes) else value.encode())


def read_env_dir(env_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(env_dir.iterdir()) if p.is_file()}
