"""The files to publish: every file under STATIC_ROOT, with its key, ETag and headers."""

from __future__ import annotations

import functools
import hashlib
import json
import mimetypes
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from herokuify_buildpack import errors
from herokuify_buildpack.assets.collected import EtagOf
from herokuify_buildpack.upload.etag import expected_etag

IMMUTABLE = "public, max-age=31536000, immutable"
MAX_KEY_BYTES = 1024  # S3's limit on a key, in UTF-8
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class LocalFile:
    name: str  # relative to STATIC_ROOT, with "/" separators
    key: str  # the object key in the bucket
    path: Path
    size: int
    etag: str
    content_type: str
    cache_control: str
    acl: str | None  # None: the bucket's default, as with ACLs disabled

    @property
    def headers(self) -> dict[str, str]:
        """What an upload or a copy gives the object besides its bytes, in boto3's names."""
        return _object_headers(self.content_type, self.cache_control, self.acl)

    @property
    def headers_tag(self) -> str:
        """A short digest of ``headers``: what the build cache and release records keep to know
        which headers an object was given, without asking S3."""
        return _headers_tag(self.content_type, self.cache_control, self.acl)

    def without_acl(self) -> LocalFile:
        return replace(self, acl=None)


def scan(
    root: Path,
    prefix: str,
    *,
    immutable: Collection[str],
    local_only: Collection[str],
    max_age: int,
    acl: str | None,
    etag_of: EtagOf = expected_etag,
    pending_links: Mapping[str, str] | None = None,
) -> list[LocalFile]:
    """Every file under ``root`` but the local-only ones, in name order.

    ``pending_links`` are names whose links into ``root`` may not exist yet: each is read from
    the file it will link to, whether or not the walk finds the link.
    """
    pending_links = pending_links or {}
    found = {name: path for name, path in _walk(root) if name not in pending_links}
    found.update((name, Path(source)) for name, source in pending_links.items())
    short_lived = f"public, max-age={max_age}"
    files = []
    for name in sorted(found):
        if name in local_only:
            continue
        path = found[name]
        size = path.stat().st_size
        files.append(
            LocalFile(
                name=name,
                key=_key(prefix, name),
                path=path,
                size=size,
                etag=etag_of(path, size),
                content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                cache_control=IMMUTABLE if name in immutable else short_lived,
                acl=acl,
            )
        )
    return files


def _key(prefix: str, name: str) -> str:
    """The object key for ``name``, checked here: S3 would refuse it only partway through the
    upload, or, for a name that is not UTF-8, botocore would fail without saying which file."""
    # django-storages' url() reads a backslash as a folder separator; keys must agree.
    key = f"{prefix}/{name.replace(chr(92), '/')}"
    try:
        size = len(key.encode())
    except UnicodeEncodeError:
        shown = os.fsencode(name).decode(errors="backslashreplace")
        raise errors.STATIC_NAME_NOT_UTF8(shown=shown) from None
    if size > MAX_KEY_BYTES:
        raise errors.STATIC_KEY_TOO_LONG(start=name[:60], size=size, limit=MAX_KEY_BYTES)
    # A store that normalises paths would put "static/a/../../media/x" outside static/.
    if any(segment in (".", "..") for segment in key.split("/")):
        raise errors.STATIC_KEY_LEAVES_PREFIX(shown=_shown(name), key=_shown(key))
    # S3's object key guidelines: ASCII 0-31 and 127 need special handling; a newline in a
    # key broke every upload of the build.
    if _CONTROL_CHARACTER.search(key):
        raise errors.STATIC_KEY_CONTROL_CHARACTER(shown=_shown(name))
    return key


def _object_headers(content_type: str, cache_control: str, acl: str | None) -> dict[str, str]:
    headers = {"ContentType": content_type, "CacheControl": cache_control}
    if acl:
        headers["ACL"] = acl
    return headers


@functools.cache
def _headers_tag(content_type: str, cache_control: str, acl: str | None) -> str:
    """Computed once per combination: a build has thousands of files and a few dozen of these."""
    headers = _object_headers(content_type, cache_control, acl)
    return hashlib.sha256(json.dumps(headers, sort_keys=True).encode()).hexdigest()[:12]


def _shown(text: str) -> str:
    """``text`` with its control characters written as escapes, for one line of output."""
    return "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in text)


def _walk(root: Path) -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    for directory, _, names in os.walk(root):
        folder = os.path.relpath(directory, root)
        for file_name in names:
            name = file_name if folder == "." else f"{folder}/{file_name}"
            files.append((name, Path(directory, file_name)))
    return files
