"""Which files to upload: decided on content (ETags), never on modification times."""

from __future__ import annotations

from dataclasses import dataclass, field

from herokuify_buildpack.bucket.listing import RemoteObject
from herokuify_buildpack.upload.cache import UploadCache
from herokuify_buildpack.upload.localfiles import LocalFile


@dataclass
class UploadPlan:
    new: list[LocalFile] = field(default_factory=list)
    changed: list[LocalFile] = field(default_factory=list)
    unchanged: list[LocalFile] = field(default_factory=list)

    @property
    def uploads(self) -> list[LocalFile]:
        # New names first: the running release keeps its files until the overwrites at the end.
        return self.new + self.changed


def plan_uploads(
    files: list[LocalFile], remote: dict[str, RemoteObject], cache: UploadCache
) -> UploadPlan:
    plan = UploadPlan()
    for file in files:
        held = remote.get(file.key)
        if held is None:
            plan.new.append(file)
        elif held.size == file.size and (held.etag == file.etag or cache.confirms(file, held)):
            plan.unchanged.append(file)
        else:
            plan.changed.append(file)
    return plan
