"""What the bucket holds under a prefix: one ListObjectsV2 request per 1,000 keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


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
