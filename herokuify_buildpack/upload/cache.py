"""The build cache's record of uploads that S3 confirmed, kept in CACHE_DIR between builds.

Each entry pairs the ETag computed from the local file with the ETag S3 answered, and names the
headers the object was given (LocalFile.headers_tag). When a bucket's ETags are not MD5s
(SSE-KMS, SSE-C), that pair still proves an object is unchanged. The cache is only ever consulted
together with a fresh listing, so a bucket changed behind its back shows a different ETag, or no
object at all, and the file is uploaded again.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from herokuify_buildpack.bucket.listing import RemoteObject
from herokuify_buildpack.cachedir import Unreadable, cache_file, read_json, write_atomically
from herokuify_buildpack.upload.localfiles import LocalFile

Entry = tuple[str, str, str]  # (local ETag, remote ETag, headers_tag)
_FORMAT = 2
_WITHOUT_HEADERS = 1  # an earlier format, whose entries do not say which headers were given


class UploadCache:
    def __init__(self, path: Path, entries: dict[str, Entry], problem: str | None = None) -> None:
        self.path = path
        self.entries = entries
        self.problem = problem  # why the file on disk was ignored, if it was
        self._as_loaded = dict(entries)

    @classmethod
    def load(cls, cache_dir: Path, cache_key: str) -> UploadCache:
        """``cache_key`` names the store, bucket and prefix: each has its own record. A missing
        or damaged cache only costs a slower build."""
        path = cache_file(cache_dir, "uploads", cache_key)
        try:
            data = read_json(path)
        except Unreadable as exc:
            return cls(path, {}, str(exc))
        if data is None or (isinstance(data, dict) and data.get("format") == _WITHOUT_HEADERS):
            return cls(path, {})
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return cls(path, {}, "its content is not a record of uploads")
        if data.get("location") != cache_key:
            return cls(path, {})  # another store's, of the same name: not damage
        entries = data.get("entries")
        well_formed = isinstance(entries, dict) and all(
            isinstance(entry, list) and len(entry) == 3 and all(isinstance(e, str) for e in entry)
            for entry in entries.values()
        )
        if not well_formed:
            return cls(path, {}, "its content is not a record of uploads")
        return cls(path, {key: (e[0], e[1], e[2]) for key, e in entries.items()})

    def confirms(self, file: LocalFile, remote: RemoteObject) -> bool:
        """Whether the object holds the file's bytes, as an upload S3 confirmed showed."""
        entry = self.entries.get(file.key)
        return entry is not None and entry[:2] == (file.etag, remote.etag)

    def headers_on(self, file: LocalFile, remote: RemoteObject) -> str | None:
        """The headers_tag the object was last given by a build, if the object listed is the one
        that build confirmed."""
        entry = self.entries.get(file.key)
        return entry[2] if entry is not None and entry[1] == remote.etag else None

    def keep_only(self, keys: Collection[str]) -> None:
        self.entries = {key: pair for key, pair in self.entries.items() if key in keys}

    def record(self, file: LocalFile, remote_etag: str) -> None:
        self.entries[file.key] = (file.etag, remote_etag, file.headers_tag)

    def save(self, cache_key: str) -> None:
        if self.entries == self._as_loaded:
            return
        # "location": the key's old name, kept so that earlier builds' caches stay valid.
        data = {"format": _FORMAT, "location": cache_key, "entries": self.entries}
        write_atomically(self.path, json.dumps(data))
