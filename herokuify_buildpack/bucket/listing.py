"""What the bucket holds under a prefix: one ListObjectsV2 request per 1,000 keys, sent at once
where the last build's listing shows where to cut (see cuts.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from herokuify_buildpack.bucket.cuts import MAX_KEYS, NO_CUTS, ListingCuts


@dataclass(frozen=True)
class RemoteObject:
    etag: str
    size: int
    last_modified: datetime


def list_prefix(
    client: Any,
    bucket: str,
    prefix: str,
    cuts: ListingCuts = NO_CUTS,
    concurrency: int = 8,
) -> dict[str, RemoteObject]:
    """Every object under ``prefix/``: one range per cut, ``concurrency`` ranges at a time.

    A wave of ranges that holds far fewer keys than the cuts promised means they are stale or
    made up (a damaged cache): the rest of the prefix is then listed plainly, so that bad cuts
    cost at most one wave more than a plain listing."""
    firsts: list[str | None] = [None, *cuts.keys]
    lasts: list[str | None] = [*cuts.keys, None]
    # Room for a few objects added since the cuts were made; more take another request.
    page_size = min(MAX_KEYS, cuts.range_size + 32) if cuts.keys else MAX_KEYS

    def list_range(index: int) -> dict[str, RemoteObject]:
        return _list_range(client, bucket, f"{prefix}/", firsts[index], lasts[index], page_size)

    if not cuts.keys:
        return list_range(0)
    objects: dict[str, RemoteObject] = {}
    with ThreadPoolExecutor(min(len(firsts), concurrency)) as pool:
        for start in range(0, len(firsts), concurrency):
            wave = range(start, min(start + concurrency, len(firsts)))
            parts = list(pool.map(list_range, wave))
            for part in parts:
                objects.update(part)
            found = sum(len(part) for part in parts)
            if wave.stop < len(firsts) and found < len(wave) * cuts.range_size // 2:
                rest = _list_range(
                    client, bucket, f"{prefix}/", lasts[wave.stop - 1], None, MAX_KEYS
                )
                objects.update(rest)
                break
    return objects


def _list_range(
    client: Any, bucket: str, prefix: str, after: str | None, last: str | None, page_size: int
) -> dict[str, RemoteObject]:
    """The objects whose keys come after ``after`` and up to ``last`` (None: no bound)."""
    objects: dict[str, RemoteObject] = {}
    while True:
        request = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": page_size}
        if after is not None:
            request["StartAfter"] = after
        page = client.list_objects_v2(**request)
        contents = page.get("Contents", [])
        for item in contents:
            if last is not None and item["Key"] > last:
                return objects  # the next range's
            objects[item["Key"]] = RemoteObject(
                etag=item["ETag"].strip('"'), size=item["Size"], last_modified=item["LastModified"]
            )
        if not page.get("IsTruncated") or not contents:
            return objects
        after = contents[-1]["Key"]
