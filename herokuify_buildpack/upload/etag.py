"""The ETag S3 gives an object uploaded the way this package uploads it.

A single PUT gets the MD5 of the body. A multipart upload gets the MD5 of the parts' MD5s plus
"-<parts>", so it depends on the part size: uploads and this computation share PART_SIZE.
Buckets with SSE-KMS or SSE-C give other ETags; the upload cache covers those (see cache.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PART_SIZE = 16 * 1024 * 1024
_READ_SIZE = 1024 * 1024


def expected_etag(path: Path, size: int) -> str:
    if size < PART_SIZE:
        digest = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as file:
            while chunk := file.read(_READ_SIZE):
                digest.update(chunk)
        return digest.hexdigest()
    # Imported here: s3transfer pulls in botocore, which the hashing process does not need.
    from s3transfer.utils import ChunksizeAdjuster

    part_size = ChunksizeAdjuster().adjust_chunksize(PART_SIZE, size)
    part_digests = []
    with path.open("rb") as file:
        while part := file.read(part_size):
            part_digests.append(hashlib.md5(part, usedforsecurity=False).digest())
    combined = hashlib.md5(b"".join(part_digests), usedforsecurity=False).hexdigest()
    return f"{combined}-{len(part_digests)}"
