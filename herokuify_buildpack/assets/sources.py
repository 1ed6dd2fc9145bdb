"""Checks on what collectstatic will read and write, before it runs.

Sources must be regular files from the app, or from the packages the Python buildpack installed
for it: a symlink out of them (say, to /etc/passwd) would otherwise be published to the world,
and a named pipe would hang the build. STATIC_ROOT
is cleared before collecting, so it must be a folder of its own: never the app, nor a folder
that static files are collected from.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from herokuify_buildpack import errors


@dataclass(frozen=True)
class Sources:
    paths: list[Path]  # every source file, checked
    collected_names: frozenset[str]  # the name collectstatic gives each in STATIC_ROOT


def check_sources(
    build_dir: Path, app_root: Path, static_root: Path, packages_dir: Path | None = None
) -> Sources:
    """Every source file the finders list, once checked; the build fails on the first bad one.
    ``packages_dir``: where the app's packages are installed, when that is outside the build
    (a CNB build keeps them in another buildpack's layer)."""
    from django.apps import apps
    from django.contrib.staticfiles import finders

    build = build_dir.resolve()
    allowed = (build, packages_dir.resolve()) if packages_dir else (build,)
    collected_into = static_root.resolve()
    holds_the_app = app_root.resolve().is_relative_to(collected_into)
    if holds_the_app or not collected_into.is_relative_to(build):
        raise errors.STATIC_ROOT_NOT_ITS_OWN(static_root=static_root)
    ignore_patterns = apps.get_app_config("staticfiles").ignore_patterns
    source_folders: dict[str, Path] = {}
    sources: list[Path] = []
    names: set[str] = set()
    # Whether each folder really lies in the build: resolved once per folder, not per file.
    folder_inside: dict[str, bool] = {}
    for finder in finders.get_finders():
        try:
            listing = list(finder.list(ignore_patterns))
        except OSError as exc:
            raise errors.STATIC_FILES_UNLISTABLE(
                reason=exc.strerror, filename=exc.filename
            ) from exc
        for name, storage in listing:
            if storage.location not in source_folders:
                source_folders[storage.location] = Path(storage.location).resolve()
            source = storage.path(name)
            folder = os.path.dirname(source)
            if folder not in folder_inside:
                folder_inside[folder] = _inside(Path(folder).resolve(), allowed)
            _check_source(name, source, folder_inside[folder], allowed)
            sources.append(Path(source))
            # As collectstatic names the file it collects: Storage.save makes a backslash a
            # folder separator.
            prefix = getattr(storage, "prefix", None)
            names.add((os.path.join(prefix, name) if prefix else name).replace("\\", "/"))
    for folder in source_folders.values():
        if folder.is_relative_to(collected_into) or collected_into.is_relative_to(folder):
            raise errors.STATIC_ROOT_OVERLAPS_SOURCES(static_root=static_root, folder=folder)
    return Sources(sources, frozenset(names))


def _inside(path: Path, allowed: tuple[Path, ...]) -> bool:
    return any(path.is_relative_to(root) for root in allowed)


def _check_source(name: str, source: str, folder_inside: bool, allowed: tuple[Path, ...]) -> None:
    """One lstat for a plain file; a link is followed to what it names."""
    try:
        mode = os.lstat(source).st_mode
        is_link = stat.S_ISLNK(mode)
        if is_link:
            mode = os.stat(source).st_mode
    except FileNotFoundError as exc:
        raise errors.STATIC_FILE_DANGLING_LINK(name=name) from exc
    except OSError as exc:
        raise errors.STATIC_FILE_UNREADABLE(name=name, reason=exc.strerror) from exc
    if not stat.S_ISREG(mode):
        raise errors.STATIC_FILE_NOT_REGULAR(name=name)
    if is_link or not folder_inside:
        target = Path(source).resolve()
        if not _inside(target, allowed):
            raise errors.STATIC_FILE_OUTSIDE_APP(name=name, target=target)
