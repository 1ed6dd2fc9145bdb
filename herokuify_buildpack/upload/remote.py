"""What the bucket holds under a prefix: one ListObjectsV2 request per 1,000 keys."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RemoteObject:
    etag: str
    size: int
    last_modified: datetime


def list_prefix(client: Any, bucket: str, prefix: str) -> dict[str, RemoteObject]:
    objects: dict[str, RemoteObject] = {}
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"{prefix}/"):
        for item in page.get("Contents", []):
            objects[item["Key"]] = RemoteObject(
                etag=item["ETag"].strip('"'), size=item["Size"], last_modified=item["LastModified"]
            )
    return objects


def in_background(work: Callable[[], T]) -> Future[T]:
    """Runs ``work`` in a thread, so S3's answers arrive while Django starts and collects.

    A daemon thread: a build that fails meanwhile exits at once instead of waiting for it.
    """
    result: Future[T] = Future()

    def run() -> None:
        try:
            result.set_result(work())
        except BaseException as exc:  # handed to whoever reads the result
            result.set_exception(exc)

    threading.Thread(target=run, name="herokuify-s3", daemon=True).start()
    return result
