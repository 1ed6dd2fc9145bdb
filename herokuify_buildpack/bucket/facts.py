"""What the bucket check finds out: a module of its own, so that the bucket client (which the
dynos' storages use) and the lister (which only the build runs) can share it."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class BucketFacts:
    """What the bucket check found out, beyond that the bucket is there."""

    static_acl: str | None  # the ACL static objects get: HEROKUIFY_STATIC_ACL's, or the bucket's
    fonts_allowed: bool  # a CORS rule lets other origins GET static files, or the store can't say
