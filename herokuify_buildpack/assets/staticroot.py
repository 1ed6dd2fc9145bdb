"""Clearing STATIC_ROOT before collecting, so that the bucket gets exactly this build's files,
without ever deleting a file that collectstatic did not make.

A build folder is a fresh checkout of the app, so STATIC_ROOT can hold only files that git tracks
or that heroku/python's collectstatic wrote earlier in this same build, from these same sources.
No marker tells the two apart (heroku/python's run writes none), so names do: every file must be
one that collectstatic, hashed names or django-compressor make from the sources the finders list
now, or a compressed sibling of one (WhiteNoise writes .gz and .br). Anything else (a Python
package, templates, a file whose source is gone) stops the build before anything is deleted.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from herokuify_buildpack import errors, output

MANIFEST = "staticfiles.json"  # the manifest of Django's hashed names
_COMPRESSED_SIBLINGS = (".gz", ".br")
# Django's hashed name: the first 12 hex digits of the MD5 before the extension (HashedFilesMixin).
_HASHED = re.compile(r"(?P<root>.+)\.[0-9a-f]{12}(?P<ext>\.[^.]*)?")
# django-compressor's bundles: [basename.]<12 hex digits>.css or .js (compressor.base).
_BUNDLE = re.compile(r"(?:.+\.)?[0-9a-f]{12}\.(?:css|js)")


@dataclass(frozen=True)
class CompressorOutput:
    folder: str  # COMPRESS_OUTPUT_DIR, relative to STATIC_ROOT
    manifest: str  # COMPRESS_OFFLINE_MANIFEST, within it


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
        return self.compressor is not None and self._made_by_compressor(name, folder, filename)

    def _made_by_compressor(self, name: str, folder: str, filename: str) -> bool:
        assert self.compressor is not None
        inside = f"{self.compressor.folder}/" if self.compressor.folder else ""
        if name == f"{inside}{self.compressor.manifest}":
            return True
        # A bundle lies in a folder of its kind (css/, js/) under the output folder.
        bundle = name.startswith(inside) and folder != self.compressor.folder
        return bundle and _BUNDLE.fullmatch(filename) is not None


def clear(static_root: Path, collected: CollectedNames) -> None:
    """Empties STATIC_ROOT if every file in it is one that ``collected`` names; otherwise fails
    the build, naming one file that is not, and deletes nothing."""
    if not static_root.is_dir():
        return
    count = 0
    for name in _files(static_root, ""):
        if not collected.made(name) and not _placeholder(static_root / name):
            raise errors.STATIC_ROOT_HOLDS_OTHER_FILES(static_root=static_root, name=name)
        count += 1
    with os.scandir(static_root) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
    if count:
        output.info(f"Cleared STATIC_ROOT of {count} files an earlier collectstatic left")


def _placeholder(path: Path) -> bool:
    """An empty dotfile such as .gitkeep: git keeps no empty folder, so apps commit one to make
    STATIC_ROOT exist, as Heroku's Django guide once advised. Being empty, it loses nothing."""
    if not path.name.startswith("."):
        return False
    info = os.lstat(path)
    return stat.S_ISREG(info.st_mode) and info.st_size == 0


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
