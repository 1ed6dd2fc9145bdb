"""The symlinks in STATIC_ROOT: relative, and made by a thread where nothing reads them yet.

A link names its source relative to its own folder, so it resolves wherever the slug is unpacked.
Heroku builds in /app today, but it built in /tmp/build_<hash> until 2021, the buildpack API
lets any builder do so, and Dokku builds in /tmp/build and moves the app to /app. Sources lie
inside the build (sources.py checks), so every link stays inside the slug; on a CNB platform they
may also lie in the Python buildpack's layer (Django's admin, say), which keeps its place beside
the app in the image.

Making thousands of links is mostly waiting on the disk, and nothing reads them until a later
step does. So a thread makes them while the build goes on, and the steps that read STATIC_ROOT
wait for it.
"""

from __future__ import annotations

import os
import queue
import threading

from herokuify_buildpack import errors
from herokuify_buildpack.errors import HerokuifyError


class RelativeLinker:
    """Makes links that name their sources relative to their own folders. Each folder is made,
    and each pair of folders resolved, once."""

    def __init__(self) -> None:
        self._between: dict[tuple[str, str], str] = {}
        self._folders_made: set[str] = set()

    def link(self, source: str, link: str) -> None:
        """Link ``link`` to ``source``; OSError (FileExistsError among them) if it cannot."""
        folder = os.path.dirname(link)
        if folder not in self._folders_made:
            os.makedirs(folder, exist_ok=True)
            self._folders_made.add(folder)
        os.symlink(self._target(source, folder), link)

    def _target(self, source: str, link_folder: str) -> str:
        source_folder, file_name = os.path.split(source)
        between = self._between.get((source_folder, link_folder))
        if between is None:
            # Resolved first: a folder reached through a symlink would break ".." otherwise.
            real_source, real_link = os.path.realpath(source_folder), os.path.realpath(link_folder)
            between = os.path.relpath(real_source, real_link)
            self._between[(source_folder, link_folder)] = between
        return os.path.join(between, file_name)


class BackgroundLinks:
    """Links made in order by one thread, or at once when asked; ``wait()`` returns once all
    exist."""

    def __init__(self) -> None:
        self.sources: dict[str, str] = {}  # name in STATIC_ROOT -> the source it links to
        self._linker = RelativeLinker()
        self._queue: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._failure: HerokuifyError | None = None
        # A daemon: a build failing meanwhile exits without waiting for links nobody will use.
        self._thread = threading.Thread(
            target=self._make_queued_links, name="herokuify-links", daemon=True
        )
        self._thread.start()

    def add(self, name: str, source: str, link: str, *, now: bool = False) -> None:
        """Link ``link`` to ``source``: queued, or ``now`` for a reader that cannot wait."""
        self.sources[name] = source
        if not now:
            self._queue.put((source, link))
            return
        try:
            self._linker.link(source, link)
        except OSError as exc:
            raise errors.LINK_FAILED(link=link, reason=exc.strerror) from exc

    def wait(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._failure is not None:
            raise self._failure

    def _make_queued_links(self) -> None:
        while (job := self._queue.get()) is not None:
            source, link = job
            try:
                self._linker.link(source, link)
            except OSError as exc:
                self._failure = errors.LINK_FAILED(link=link, reason=exc.strerror)
                return
