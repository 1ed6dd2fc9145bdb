"""Django's collectstatic, with its bookkeeping made linear and its links made by links.py.

For each file, collectstatic asks whether it has linked or copied it already by searching a
list of every file done so far. That is quadratic, and at tens of thousands of files it costs
seconds before any file is touched (bench/README.md has the figure). This is the same command
with those lists searchable in constant time.
"""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.management.commands import collectstatic
from django.core.files.storage import Storage
from django.core.management import BaseCommand, get_commands

from herokuify_buildpack.assets.links import BackgroundLinks


class _DoneList(list[str]):
    """A list that collectstatic appends to, whose ``in`` is a set lookup."""

    def __init__(self) -> None:
        super().__init__()
        self._members: set[str] = set()

    def append(self, name: str) -> None:
        super().append(name)
        self._members.add(name)

    def __contains__(self, name: object) -> bool:
        return name in self._members


class Command(collectstatic.Command):
    def __init__(self, background_links: BackgroundLinks, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.copied_files = _DoneList()
        self.symlinked_files = _DoneList()
        self.unmodified_files = _DoneList()
        self.background_links = background_links

    def link_file(self, path: str, prefixed_path: str, source_storage: Storage) -> None:
        """Django's link_file, with a relative link that is made in the background unless
        post-processing (hashed names) reads STATIC_ROOT as soon as collecting ends. STATIC_ROOT
        starts empty (collect.py clears it), so there is never an older file to compare with or
        delete first."""
        if self.dry_run:
            super().link_file(path, prefixed_path, source_storage)
            return
        source_path = source_storage.path(path)
        self.log(f"Linking '{source_path}'", level=2)
        post_processed = self.post_process and hasattr(self.storage, "post_process")
        link = self.storage.path(prefixed_path)
        self.background_links.add(prefixed_path, source_path, link, now=post_processed)
        self.symlinked_files.append(prefixed_path)


def collectstatic_command(links: BackgroundLinks) -> BaseCommand | str:
    """This command, queueing its links on ``links``, when the app runs Django's own; an app's
    override of it runs unchanged (and queues nothing)."""
    if get_commands().get("collectstatic") != "django.contrib.staticfiles":
        return "collectstatic"
    return Command(links)
