"""Files in CACHE_DIR: one per kind of record and store, each written whole or not at all.

Whatever CACHE_DIR holds, a build neither fails nor hangs on it: a file that cannot be read is
ignored, for a reason the build can show in one line, and one that cannot be written only
makes the next build slower.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any


class Unreadable(Exception):
    """A cache file that is there but cannot be used; the message says why."""


def cache_file(cache_dir: Path, kind: str, cache_key: str) -> Path:
    """The file in CACHE_DIR holding ``kind`` for ``cache_key`` (see S3Config.cache_key)."""
    name = hashlib.sha256(cache_key.encode()).hexdigest()[:16]
    return cache_dir / "herokuify" / f"{kind}-{name}.json"


def read_json(path: Path) -> Any:
    """The file's JSON, or None if there is no such file. Only a regular file is opened: a
    named pipe left in its place would block the read for ever."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Unreadable(exc.strerror or type(exc).__name__) from exc
    if not stat.S_ISREG(mode):
        raise Unreadable("it is not a regular file")
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise Unreadable(exc.strerror or type(exc).__name__) from exc
    except ValueError as exc:
        raise Unreadable("it is not JSON") from exc


def write_atomically(path: Path, text: str) -> None:
    """Write then rename, so a killed build leaves the old file or the new one, never half.
    OSError if the folder or the file cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as temp:
        temp.write(text)
    try:
        os.replace(temp.name, path)
    except OSError:
        os.unlink(temp.name)  # ours: made just above
        raise
