"""Django's collectstatic, with its bookkeeping made linear and its links made in the background.

For each file, collectstatic asks whether it has linked or copied it already by searching a
list of every file done so far. That is quadratic: 2.8 s of CPU at 20,000 files, before any
file is touched. This is the same command with those lists searchable in constant time.

Making thousands of links is mostly waiting on the disk, and nothing reads them until a later
step does. So, unless post-processing (hashed names) reads STATIC_ROOT right away, a thread
makes them while the build goes on, and the steps that read STATIC_ROOT wait for it.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Any

from django.contrib.staticfiles.management.commands import collectstatic
from django.core.files.storage import Storage
from django.core.management import BaseCommand, get_commands

from herokuify_buildpack.errors import BuildError


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


class BackgroundLinks:
    """Symlinks made in order by one thread; ``wait()`` returns once all exist."""

    def __init__(self) -> None:
        self.sources: dict[str, str] = {}  # name in STATIC_ROOT -> the source it links to
        self._queue: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._failure: str | None = None
        # A daemon: a build failing meanwhile exits without waiting for links nobody will use.
        self._thread = threading.Thread(
            target=self._make_links, name="herokuify-links", daemon=True
        )
        self._thread.start()

    def add(self, name: str, source: str, link: str) -> None:
        self.sources[name] = source
        self._queue.put((source, link))

    def wait(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._failure is not None:
            raise BuildError(f"collectstatic could not link {self._failure}")

    def _make_links(self) -> None:
        folders_made: set[str] = set()
        while (job := self._queue.get()) is not None:
            source, link = job
            folder = os.path.dirname(link)
            try:
                if folder not in folders_made:
                    os.makedirs(folder, exist_ok=True)
                    folders_made.add(folder)
                os.symlink(source, link)
            except OSError as exc:
                self._failure = f"{link}: {exc.strerror}"
                return


class Command(collectstatic.Command):
    def __init__(self, background_links: BackgroundLinks, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.copied_files = _DoneList()
        self.symlinked_files = _DoneList()
        self.unmodified_files = _DoneList()
        self.background_links = background_links

    def link_file(self, path: str, prefixed_path: str, source_storage: Storage) -> None:
        """Django's link_file, or, when nothing reads STATIC_ROOT before the build waits for
        the links, a link queued for the background. STATIC_ROOT starts empty (collect.py
        clears it), so there is never an older file to compare with or delete first."""
        if self.dry_run or (self.post_process and hasattr(self.storage, "post_process")):
            super().link_file(path, prefixed_path, source_storage)
            return
        source_path = source_storage.path(path)
        self.log(f"Linking '{source_path}'", level=2)
        self.background_links.add(prefixed_path, source_path, self.storage.path(prefixed_path))
        self.symlinked_files.append(prefixed_path)


def collectstatic_command(links: BackgroundLinks) -> BaseCommand | str:
    """This command, queueing its links on ``links``, when the app runs Django's own; an app's
    override of it runs unchanged (and queues nothing)."""
    if get_commands().get("collectstatic") != "django.contrib.staticfiles":
        return "collectstatic"
    return Command(links)
