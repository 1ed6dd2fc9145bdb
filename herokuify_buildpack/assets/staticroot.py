"""Clearing STATIC_ROOT before collecting, so that the bucket gets exactly this build's files,
without ever deleting a file that collectstatic did not make.

A build folder is a fresh checkout of the app, so STATIC_ROOT can hold only files that git tracks
or that heroku/python's collectstatic wrote earlier in this same build, from these same sources.
No marker tells the two apart (heroku/python's run writes none), so names do: every file must be
one that collectstatic, hashed names or django-compressor make from the sources the finders list
now, or a compressed sibling of one (WhiteNoise writes .gz and .br). The one file whose name
the app chooses, its storage's hashed-names manifest (``manifest_name``), is told by its content.
Anything else (a Python package, templates, a file whose source is gone) stops the build before
anything is deleted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from herokuify_buildpack import errors, output
from herokuify_buildpack.config import HASHED_NAMES_MANIFEST as MANIFEST

# A manifest of another name is read to recognise it; a bigger file is not one Django wrote.
_MANIFEST_MAX_BYTES = 32 * 1024 * 1024
_COMPRESSED_SIBLINGS = (".gz", ".br")
# Django's hashed name: the first 12 hex digits of the MD5 before the extension (HashedFilesMixin).
_HASHED = re.compile(r"(?P<root>.+)\.[0-9a-f]{12}(?P<ext>\.[^.]*)?")
# django-compressor's bundles: [basename.]<12 hex digits>.css or .js (compressor.base), in a
# folder of their kind.
_BUNDLE = re.compile(r"(?:.+\.)?[0-9a-f]{12}\.(?:css|js)")
_BUNDLE_FOLDERS = ("css", "js")


@dataclass(frozen=True)
class CompressorOutput:
    folder: str  # COMPRESS_OUTPUT_DIR, relative to STATIC_ROOT; "" for STATIC_ROOT itself
    manifest: str  # COMPRESS_OFFLINE_MANIFEST, within it

    @property
    def manifest_name(self) -> str:
        return f"{self.folder}/{self.manifest}" if self.folder else self.manifest

    def made(self, name: str) -> bool:
        """Whether offline compress writes ``name``: its manifest, or a bundle in a folder of its
        kind (css/, js/) under the output folder. With STATIC_ROOT itself as the output folder,
        only css/ and js/ themselves: any folder would take in the app's own hex-named files."""
        if name == self.manifest_name:
            return True
        folder, _, filename = name.rpartition("/")
        if self.folder:
            in_place = folder.startswith(f"{self.folder}/")
        else:
            in_place = folder in _BUNDLE_FOLDERS
        return in_place and _BUNDLE.fullmatch(filename) is not None


@dataclass(frozen=True)
class CollectedNames:
    """What collectstatic and its companions may have written to STATIC_ROOT."""

    sources: Collection[str]  # the name of each source file, as collectstatic gives it
    compressor: CompressorOutput | None = None

    def made(self, name: str) -> bool:
        if self._made_plain(name):
            return True
        stem, suffix = os.path.splitext(name)
        return suffix in _COMPRESSED_SIBLINGS and self._made_plain(stem)

    def _made_plain(self, name: str) -> bool:
        if name in self.sources or name == MANIFEST:
            return True
        folder, _, filename = name.rpartition("/")
        hashed = _HASHED.fullmatch(filename)
        if hashed is not None:
            original = hashed["root"] + (hashed["ext"] or "")
            if (f"{folder}/{original}" if folder else original) in self.sources:
                return True
        return self.compressor is not None and self.compressor.made(name)


def clear(static_root: Path, collected: CollectedNames) -> None:
    """Empties STATIC_ROOT if every file in it is one that ``collected`` names; otherwise fails
    the build, naming one file that is not, and deletes nothing."""
    if not static_root.is_dir():
        return
    count = 0
    for name in _files(static_root, ""):
        path = static_root / name
        if not collected.made(name) and not _placeholder(path) and not _manifest(path):
            raise errors.STATIC_ROOT_HOLDS_OTHER_FILES(static_root=static_root, name=name)
        count += 1
    with os.scandir(static_root) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
    if count:
        output.info(
            f"Cleared STATIC_ROOT of {output.counted(count, 'file')} an earlier collectstatic left"
        )


def _placeholder(path: Path) -> bool:
    """An empty dotfile such as .gitkeep: git keeps no empty folder, so apps commit one to make
    STATIC_ROOT exist, as Heroku's Django guide once advised. Being empty, it loses nothing."""
    if not path.name.startswith("."):
        return False
    info = os.lstat(path)
    return stat.S_ISREG(info.st_mode) and info.st_size == 0


def _manifest(path: Path) -> bool:
    """A hashed-names manifest under a name of the app's storage's choosing, as
    ManifestFilesMixin writes it: heroku/python's collectstatic runs with that storage. Read only
    for a .json name that nothing else accounts for, and only if it is a small regular file."""
    if path.suffix != ".json":
        return False
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode) or info.st_size > _MANIFEST_MAX_BYTES:
        return False
    try:
        content = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return False
    return (
        isinstance(content, dict)
        and isinstance(content.get("paths"), dict)
        and isinstance(content.get("version"), str)
    )


def _files(folder: Path | str, prefix: str) -> Iterator[str]:
    """Every name under ``folder`` that is not a folder, links included (never followed: removing
    a link removes nothing it points to), relative to the first ``folder``."""
    with os.scandir(folder) as entries:
        for entry in entries:
            name = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                yield from _files(entry.path, f"{name}/")
            else:
                yield name
