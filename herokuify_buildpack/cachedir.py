"""Files in CACHE_DIR: one per kind of record and store, each written whole or not at all."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def cache_file(cache_dir: Path, kind: str, cache_key: str) -> Path:
    """The file in CACHE_DIR holding ``kind`` for ``cache_key`` (see S3Config.cache_key)."""
    name = hashlib.sha256(cache_key.encode()).hexdigest()[:16]
    return cache_dir / "herokuify" / f"{kind}-{name}.json"


def write_atomically(path: Path, text: str) -> None:
    """Write then rename, so a killed build leaves the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as temp:
        temp.write(text)
    os.replace(temp.name, path)
