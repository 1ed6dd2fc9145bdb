"""A collected STATIC_ROOT, as the upload takes it: which files never change, which are read
from the slug only, and how to know each file's ETag. The build makes one from what it
collected (collect.py); the release phase and doctor, from what the build recorded in the slug
(slugrecord.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

EtagOf = Callable[[Path, int], str]  # (path, size) -> the ETag S3 gives it


@dataclass(frozen=True)
class StaticSource:
    root: Path
    immutable: frozenset[str]  # names whose content never changes: hashed names, bundles
    local_only: frozenset[str]  # manifests read from the slug at run time, never from S3
    etag_of: EtagOf  # a file's ETag
    # Names whose links into STATIC_ROOT may still be in the making, and the files they link to.
    pending_links: Mapping[str, str]
