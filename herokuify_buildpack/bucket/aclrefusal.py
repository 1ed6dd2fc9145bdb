"""A store that says it takes object ACLs, and refuses them.

The bucket check reads "not found" from GetBucketOwnershipControls as AWS means it: a bucket made
before ownership controls, which takes ACLs (client.check_bucket). moto answers so for every
bucket, and a store can answer so and still refuse every ACL, as R2 does. The upload finds out
from its first refusal, sends the rest without the ACL, and leaves an empty object here, under the
prefix's bookkeeping, saying so. Later builds and release phases list the prefix anyway: they see
it and plan without the ACL from the start, so they find every object with the headers it was
given. HEROKUIFY_STATIC_ACL, when set, decides instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herokuify_buildpack.bucket.listing import RemoteObject
from herokuify_buildpack.bucket.releases import bookkeeping_prefix


def note_key(prefix: str) -> str:
    return f"{bookkeeping_prefix(prefix)}acl-refused"


def noted(prefix: str, remote: Mapping[str, RemoteObject]) -> bool:
    """Whether an earlier upload under ``prefix`` found that the store refuses object ACLs."""
    return note_key(prefix) in remote


def note(client: Any, bucket: str, prefix: str) -> None:
    client.put_object(Bucket=bucket, Key=note_key(prefix), Body=b"")
