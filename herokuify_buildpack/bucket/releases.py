"""Which objects each release uses, kept in the bucket so old assets can be pruned safely.

A record is a small private object under ``static/.herokuify/releases/``, named by its time and
a digest of the release's keys and of the headers each object was given. It lives inside the
prefix the build lists anyway, so reading the history costs no request, and a deploy whose keys
and headers are unchanged writes none.

A release is given as a mapping of each key to its headers_tag (see upload/localfiles.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from herokuify_buildpack.bucket.listing import RemoteObject

RECORDS_DIR = ".herokuify/releases"
# Never prune an object this young: a concurrent build may be about to record it.
PRUNE_GRACE = timedelta(hours=1)
_DELETE_BATCH = 1000  # the most DeleteObjects takes at once


@dataclass(frozen=True)
class PruneResult:
    deleted: int
    kept_releases: int


def records_prefix(prefix: str) -> str:
    return f"{prefix}/{RECORDS_DIR}/"


def release_digest(release: Mapping[str, str]) -> str:
    lines = sorted(f"{key}\t{tag}" for key, tag in release.items())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def newest_record(prefix: str, remote: dict[str, RemoteObject]) -> str | None:
    records = _record_keys(remote, prefix)
    return records[-1] if records else None


def is_recorded(prefix: str, release: Mapping[str, str], remote: dict[str, RemoteObject]) -> bool:
    """Whether the newest release record lists exactly these keys, with these headers."""
    newest = newest_record(prefix, remote)
    return newest is not None and newest.endswith(f"-{release_digest(release)}.json")


def record_release(client: Any, bucket: str, prefix: str, release: Mapping[str, str]) -> None:
    """Store this release's keys and headers, under a name that sorts after every earlier
    record."""
    ordered = sorted(release)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    body = {"keys": ordered, "headers": [release[key] for key in ordered]}
    client.put_object(
        Bucket=bucket,
        Key=f"{records_prefix(prefix)}{stamp}-{release_digest(release)}.json",
        Body=json.dumps(body).encode(),
        ContentType="application/json",
    )


def recorded_headers(client: Any, bucket: str, record: str) -> dict[str, str]:
    """Each key of a release record, with the headers_tag its build gave it. A record written
    before records named headers names none."""
    body = json.loads(client.get_object(Bucket=bucket, Key=record)["Body"].read())
    return dict(zip(body["keys"], body.get("headers", []), strict=False))


def prune(
    client: Any,
    bucket: str,
    prefix: str,
    remote: dict[str, RemoteObject],
    release: Mapping[str, str],
    keep_releases: int,
    grace: timedelta = PRUNE_GRACE,
) -> PruneResult:
    """Delete objects that neither this release nor the ``keep_releases - 1`` before it use.

    With fewer recorded releases than that, nothing is deleted: an unrecorded release may
    still be running. Objects younger than PRUNE_GRACE are never deleted.
    """
    in_use = set(release)
    digest = release_digest(release)
    previous = [key for key in _record_keys(remote, prefix) if not key.endswith(f"-{digest}.json")]
    keep_previous = keep_releases - 1
    if len(previous) < keep_previous:
        return PruneResult(deleted=0, kept_releases=len(previous) + 1)
    kept = previous[len(previous) - keep_previous :]
    retired = set(previous[: len(previous) - keep_previous])
    for record in kept:
        body = client.get_object(Bucket=bucket, Key=record)["Body"].read()
        in_use.update(json.loads(body)["keys"])
    cutoff = datetime.now(timezone.utc) - grace
    records_start = records_prefix(prefix)
    doomed = sorted(
        key
        for key, held in remote.items()
        if key not in in_use
        and (key in retired or not key.startswith(records_start))
        and held.last_modified < cutoff
    )
    for start in range(0, len(doomed), _DELETE_BATCH):
        batch = doomed[start : start + _DELETE_BATCH]
        client.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
        )
    return PruneResult(deleted=len(doomed), kept_releases=keep_releases)


def _record_keys(remote: dict[str, RemoteObject], prefix: str) -> list[str]:
    start = records_prefix(prefix)
    return sorted(key for key in remote if key.startswith(start))
