"""The floor: bare boto3 ``put_object`` of a collected STATIC_ROOT, with a bounded thread pool.

It sends exactly what herokuify sends (same keys, bytes, Content-Type, Cache-Control and ACL,
one PUT per file, same concurrency and connection pool size) and nothing else: no listing, no
hashing, no cache, no progress reports. Run as a subprocess by bench.run:

    python -m bench.floor ROOT --endpoint URL --bucket NAME --concurrency 32 [--exclude NAME ...]

It prints one JSON line: files, bytes, and the seconds from the first PUT to the last answer.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from botocore.config import Config

from herokuify_dev.s3server import make_client

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"


def collected_files(root: Path, exclude: set[str]) -> list[tuple[str, Path]]:
    found = []
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            relative = path.relative_to(root).as_posix()
            if relative not in exclude:
                found.append((relative, path))
    return sorted(found)


def immutable_names(root: Path) -> set[str]:
    manifest = root / "staticfiles.json"
    if not manifest.is_file():
        return set()
    return set(json.loads(manifest.read_text())["paths"].values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("root", type=Path)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", default="static")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--exclude", action="append", default=[])
    args = parser.parse_args(argv)

    client = make_client(args.endpoint, config=Config(max_pool_connections=args.concurrency + 4))
    files = collected_files(args.root, set(args.exclude))
    immutable = immutable_names(args.root)

    def put(item: tuple[str, Path]) -> int:
        name, path = item
        body = path.read_bytes()
        client.put_object(
            Bucket=args.bucket,
            Key=f"{args.prefix}/{name}",
            Body=body,
            ACL="public-read",
            ContentType=mimetypes.guess_type(name)[0] or "application/octet-stream",
            CacheControl=IMMUTABLE if name in immutable else SHORT,
        )
        return len(body)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        sent = sum(pool.map(put, files))
    seconds = time.monotonic() - started
    print(json.dumps({"files": len(files), "bytes": sent, "upload_seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
