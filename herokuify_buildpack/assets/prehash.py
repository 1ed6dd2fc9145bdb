"""ETags of the app's static files, computed in a second process while collectstatic links them.

Hashing thousands of small files in threads of the build's process would fight collectstatic
for the GIL; a second process hashes them on the other core instead. A file in STATIC_ROOT that
links to a listed source takes the source's ETag, a file the build wrote itself takes the ETag
it recorded, and any other file is hashed when it is scanned: the result is the same as hashing
every file afterwards.

The second process runs ``hash_listed_files``: NUL-separated paths on stdin, JSON on stdout. A
small app's files are hashed in the build's process instead, when first asked for: starting a
second Python would cost more than the hashing, and compete with Django's start for a core.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from herokuify_buildpack import errors, steptimes
from herokuify_buildpack.steptimes import StepTimes
from herokuify_buildpack.upload.etag import expected_etag

# The worker finds this package where the build found it; -I keeps PYTHONPATH and the like out.
_WORKER_CODE = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from herokuify_buildpack.assets import prehash; prehash.hash_listed_files()"
)
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
IN_PROCESS_LIMIT = 300  # sources, at most, that the build's own process hashes


class SourceEtags:
    def __init__(self, sources: Iterable[Path], env: Mapping[str, str], times: StepTimes) -> None:
        """``env``: the worker's environment. The build's own, less the config vars: the
        Python may need it to start (Heroku's finds libpython through LD_LIBRARY_PATH).
        ``times`` gets the worker's wall time, from its start to its answer, once read."""
        self._times = times
        self._hashed: dict[str, str] | None = None
        self._unreadable: dict[str, str] = {}
        self._recorded: dict[str, str] = {}
        sources = list(sources)
        self._worker: subprocess.Popen[bytes] | None = None
        if len(sources) <= IN_PROCESS_LIMIT:  # none at all included: no process for nothing
            self._in_process = sources
            return
        with tempfile.TemporaryFile() as listing:
            listing.write(b"\0".join(os.fsencode(source) for source in sources))
            listing.seek(0)
            self._started = _now()
            # Pipes, not the build's own stdout and stderr: a worker still running when a build
            # fails holds nothing of the build open, and ends when its answer finds no reader.
            self._worker = subprocess.Popen(
                [sys.executable, "-I", "-c", _WORKER_CODE, _PACKAGE_PARENT],
                env=dict(env),
                stdin=listing,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )

    def source_etag(self, source: str) -> str | None:
        """The ETag of a listed source file (waiting for the worker), or None if not listed."""
        if self._hashed is None:
            self._collect_answer()
        assert self._hashed is not None
        if source in self._unreadable:
            raise errors.STATIC_FILE_UNREADABLE(name=source, reason=self._unreadable[source])
        return self._hashed.get(source)

    def record(self, path: str, etag: str) -> None:
        """The ETag of a file the build wrote into STATIC_ROOT itself, known as it was written."""
        self._recorded[os.path.abspath(path)] = etag

    def etag(self, path: Path, size: int) -> str:
        """The ETag of ``path``, ``size`` bytes long: a source, or a file in STATIC_ROOT."""
        known = self._recorded.get(os.path.abspath(path)) or self.source_etag(str(path))
        if known is None:
            # A link Django made itself (an app's own collectstatic) names its source in full.
            # The build's own links are relative: their sources are pending, or ETags recorded.
            try:
                known = self.source_etag(os.readlink(path))
            except OSError:  # not a link
                known = None
        return known if known is not None else expected_etag(path, size)

    def _collect_answer(self) -> None:
        if self._worker is None:
            started = _now()
            self._hashed, self._unreadable = _hash(os.fsencode(path) for path in self._in_process)
            self._times.add(steptimes.HASHING, _now() - started)
            return
        answer, stderr = self._worker.communicate()
        if self._worker.returncode != 0:
            raise RuntimeError(f"the hashing process failed: {stderr.decode(errors='replace')}")
        results = json.loads(answer)
        self._hashed = results["hashed"]
        self._unreadable = results["unreadable"]
        self._times.add(steptimes.HASHING, results["finished"] - self._started)


def _now() -> float:
    """A clock that the build and its worker read alike: CLOCK_MONOTONIC is one system-wide
    clock (Linux's clock_gettime(2)), where time.monotonic's reference point is undefined."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _hash(listed: Iterable[bytes]) -> tuple[dict[str, str], dict[str, str]]:
    """Each path's ETag, and why each path that could not be read could not."""
    hashed: dict[str, str] = {}
    unreadable: dict[str, str] = {}
    for each in listed:
        if not each:
            continue
        path = os.fsdecode(each)
        try:
            hashed[path] = expected_etag(Path(path), os.stat(path).st_size)
        except OSError as exc:
            unreadable[path] = exc.strerror or type(exc).__name__
    return hashed, unreadable


def hash_listed_files() -> None:
    hashed, unreadable = _hash(sys.stdin.buffer.read().split(b"\0"))
    # JSON escapes the surrogates that stand for undecodable bytes in file names, and the
    # reader gets the same strings back.
    json.dump({"hashed": hashed, "unreadable": unreadable, "finished": _now()}, sys.stdout)
