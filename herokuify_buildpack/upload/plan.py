"""Which files to upload: decided on content (ETags) and headers, never on modification times."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from herokuify_buildpack.bucket.listing import RemoteObject
from herokuify_buildpack.upload.cache import UploadCache
from herokuify_buildpack.upload.localfiles import LocalFile

COPY_LIMIT = 5 * 1024**3  # the largest object CopyObject takes in one request


@dataclass
class UploadPlan:
    new: list[LocalFile] = field(default_factory=list)
    changed: list[LocalFile] = field(default_factory=list)
    # Bytes current, headers (Content-Type, Cache-Control, ACL) not: copied onto themselves.
    stale_headers: list[LocalFile] = field(default_factory=list)
    unchanged: list[LocalFile] = field(default_factory=list)

    @property
    def uploads(self) -> list[LocalFile]:
        # New names first: the running release keeps its files until the overwrites at the end.
        return self.new + self.changed


class KnownHeaders:
    """Which headers each object was given by the build that last wrote it, known without a
    request per object: from the build cache, else from the newest release record.

    ``newest_is_this_release``: the newest record names exactly this build's keys and headers,
    so nothing needs reading. Otherwise the newest record is read, once, if the cache cannot
    answer for some object (a new CACHE_DIR, a changed config var)."""

    def __init__(
        self,
        cache: UploadCache,
        newest_is_this_release: bool,
        read_newest_record: Callable[[], dict[str, str]],
    ) -> None:
        self.cache = cache
        self.newest_is_this_release = newest_is_this_release
        self.recorded = functools.cache(read_newest_record)

    def tag_of(self, file: LocalFile, held: RemoteObject) -> str | None:
        from_cache = self.cache.headers_on(file, held)
        if from_cache is not None:
            return from_cache
        if self.newest_is_this_release:
            return file.headers_tag
        return self.recorded().get(file.key)


def plan_uploads(
    files: list[LocalFile], remote: dict[str, RemoteObject], known: KnownHeaders
) -> UploadPlan:
    plan = UploadPlan()
    for file in files:
        held = remote.get(file.key)
        if held is None:
            plan.new.append(file)
        elif held.size != file.size or not (
            held.etag == file.etag or known.cache.confirms(file, held)
        ):
            plan.changed.append(file)
        elif known.tag_of(file, held) == file.headers_tag:
            plan.unchanged.append(file)
        elif file.size <= COPY_LIMIT:
            plan.stale_headers.append(file)
        else:
            plan.changed.append(file)
    return plan
