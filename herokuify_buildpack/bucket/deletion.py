"""DeleteObjects, for pruning and delete-prefix. S3 answers 200 even when it refuses some of
the keys, and lists those under ``Errors``: a refusal is raised here, never passed over."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from herokuify_buildpack import errors

BATCH = 1000  # the most keys DeleteObjects takes at once


def delete_keys(client: Any, bucket: str, keys: Sequence[str]) -> None:
    """Delete ``keys``, at most BATCH of them, in one request."""
    objects = [{"Key": key} for key in keys]
    answer = client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    refused = answer.get("Errors") or []
    if refused:
        first = refused[0]
        raise errors.DELETES_REFUSED(
            bucket=bucket,
            count=len(refused),
            key=first.get("Key", "?"),
            code=first.get("Code", "no code given"),
        )
