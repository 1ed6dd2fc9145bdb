"""The build's storage for hashed names: Django's ManifestStaticFilesStorage, minus the copying.

With HEROKUIFY_HASHED_NAMES=1, Django's post-processing reads every collected file to hash its
name, then writes a copy under the hashed name; the upload would then read each copy again for
its ETag. Given the ETags the build computes beside collectstatic (``source_etags``), this
storage takes the name hashes from them (Django's hash is the first 12 digits of the same MD5)
and makes each unchanged copy a relative link to its source, as collectstatic's links are.
Files that post-processing rewrites (stylesheets, scripts) are written as usual, with their
ETags recorded from the hashing that named them.
Without ``source_etags``, as in ``collectstatic`` run by hand, it is ManifestStaticFilesStorage.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any
from weakref import WeakKeyDictionary

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.files.base import ContentFile, File

from herokuify_buildpack.assets.links import RelativeLinker
from herokuify_buildpack.assets.prehash import SourceEtags
from herokuify_buildpack.upload.etag import PART_SIZE


class LinkingManifestStorage(ManifestStaticFilesStorage):
    source_etags: SourceEtags | None = None  # set by the build before collectstatic runs

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The whole MD5 of each rewritten file, from naming it, for its ETag when it is saved.
        self._md5_of_rewritten: WeakKeyDictionary[ContentFile, str] = WeakKeyDictionary()
        self._linker = RelativeLinker()

    def file_hash(self, name: str, content: File[Any] | None = None) -> str | None:
        known = self._known_source(content)
        if known is not None and "-" not in known[1]:  # a multipart ETag is no MD5 of the file
            return known[1][:12]
        if self.source_etags is None or not isinstance(content, ContentFile):
            return super().file_hash(name, content)
        digest = hashlib.md5(usedforsecurity=False)
        for chunk in content.chunks():
            digest.update(chunk)
        self._md5_of_rewritten[content] = digest.hexdigest()
        return digest.hexdigest()[:12]  # as Django's file_hash

    def _save(self, name: str, content: File[Any]) -> str:
        known = self._known_source(content)
        if known is not None and self.source_etags is not None:
            full_path = self.path(name)
            try:
                self._linker.link(known[0], full_path)
            except FileExistsError:
                pass  # Django's own _save picks another name
            else:
                self.source_etags.record(full_path, known[1])
                return name.replace("\\", "/")
        saved = super()._save(name, content)
        md5 = self._md5_of_rewritten.get(content) if isinstance(content, ContentFile) else None
        if self.source_etags is not None and md5 is not None and content.size < PART_SIZE:
            self.source_etags.record(self.path(saved), md5)
        return saved

    def _known_source(self, content: File[Any] | None) -> tuple[str, str] | None:
        """The source file that ``content`` was opened from, and its ETag, if the build has it.

        Post-processing opens each original through its finder's storage, so the file's name is
        the source's path, as the build listed it. A rewritten file is a ContentFile instead.
        """
        if self.source_etags is None or content is None or isinstance(content, ContentFile):
            return None
        source = getattr(content, "name", None)
        if not isinstance(source, str) or not os.path.isabs(source):
            return None
        etag = self.source_etags.source_etag(source)
        return None if etag is None else (source, etag)
