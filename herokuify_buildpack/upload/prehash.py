"""ETags of the app's static files, computed while collectstatic links them into STATIC_ROOT.

Collecting with links is mostly waiting on the disk, and hashing is mostly reading it; in
threads, one hides the other. A collected file that links to a hashed source takes the
source's ETag; any other file (post-processed, compressed, or a link this did not see) is
hashed when it is scanned, so the result is the same as hashing every file afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from herokuify_buildpack.upload.etag import HASHING_THREADS, expected_etag


def _etag_of(path: Path) -> str:
    return expected_etag(path, path.stat().st_size)


class SourceEtags:
    def __init__(self, sources: Iterable[Path]) -> None:
        pool = ThreadPoolExecutor(max_workers=HASHING_THREADS)
        self._pending: dict[str, Future[str]] = {
            str(source): pool.submit(_etag_of, source) for source in sources
        }
        pool.shutdown(wait=False)

    def etag(self, path: Path, size: int) -> str:
        """The ETag of ``path``, a file in STATIC_ROOT that is ``size`` bytes long."""
        pending = self._pending.get(os.readlink(path)) if path.is_symlink() else None
        return pending.result() if pending is not None else expected_etag(path, size)
