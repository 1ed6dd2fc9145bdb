"""What `script/local-build` keeps of an app between runs, so that the next run is a redeploy:
its CACHE_DIR, and the objects of the local S3 server's bucket.

moto keeps its objects in memory only, so they are saved to files when a run ends, however it
ends, and put back into the next run's fresh server before its build. Each app has a folder of
its own under the state root, named after the app's folder and a digest of its resolved path:

    <root>/<name>-<digest>/cache/     the build's CACHE_DIR
    <root>/<name>-<digest>/bucket/    objects.json and one file per object's bytes, and
                                      settings.json: the bucket's policy, CORS and lifecycle
                                      rules, which `doctor --apply` adds
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from herokuify_buildpack.bucket.client import PUBLIC_READ
from herokuify_buildpack.upload.etag import PART_SIZE
from herokuify_dev.linkedcopy import linked_copy

DEFAULT_STATE_ROOT = Path.home() / ".cache" / "herokuify-buildpack" / "local"
INDEX = "objects.json"
SETTINGS = "settings.json"
# The headers an object is given when written, the buildpack's (content type, cache control)
# and those django-storages may add; GetObject answers them under the same names.
KEPT_HEADERS = ("ContentType", "CacheControl", "ContentEncoding", "ContentDisposition")
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_CONCURRENCY = 8


class StateBusy(RuntimeError):
    """Another local build of the same app holds its state."""


@dataclass(frozen=True)
class AppState:
    folder: Path

    @classmethod
    def for_app(cls, app_dir: Path, root: Path) -> AppState:
        resolved = app_dir.resolve()
        digest = hashlib.sha256(os.fsencode(resolved)).hexdigest()[:8]
        return cls(root / f"{resolved.name}-{digest}")

    @property
    def cache_dir(self) -> Path:
        return self.folder / "cache"

    @property
    def bucket_dir(self) -> Path:
        return self.folder / "bucket"

    @property
    def port(self) -> int | None:
        """The local server's port in the last run. The bucket's URL is in what the build makes
        (django-compressor writes it into its bundles), so a redeploy needs the same one."""
        try:
            return int((self.folder / "port").read_text())
        except (OSError, ValueError):
            return None

    def keep_port(self, port: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "port").write_text(str(port))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Held for a whole run: two runs at once would each save a bucket the other changed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StateBusy(f"another local build of this app uses {self.folder}") from None
            yield

    def forget(self) -> None:
        """Empties the saved bucket and CACHE_DIR (the lock stays: it is held)."""
        for folder in (self.cache_dir, self.bucket_dir):
            shutil.rmtree(folder, ignore_errors=True)


# Each object as the running server lists it: key -> (ETag, LastModified).
Listing = dict[str, tuple[str, str]]


def list_objects(client: Any, bucket: str) -> Listing:
    return {
        obj["Key"]: (obj["ETag"], obj["LastModified"].isoformat())
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
    }


def save_bucket(client: Any, bucket: str, folder: Path, restored: Listing | None = None) -> int:
    """Writes every object of ``bucket`` to ``folder``, replacing what it held; returns how many.
    An object listed as it was ``restored`` from ``folder`` is kept from there, not downloaded
    again: the LastModified as well as the ETag must match, since copying an object onto itself
    with new headers (as the build does when only they change) keeps its ETag. The new copy is
    complete before the old one goes, so an interrupted save loses nothing."""
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    listing = list_objects(client, bucket)
    keys = list(listing)
    index = folder / INDEX
    kept = {
        entry["key"]: entry
        for entry in (json.loads(index.read_text()) if restored and index.is_file() else [])
        if entry["key"] in listing and restored.get(entry["key"]) == listing[entry["key"]]
    }

    def save(number: int) -> dict[str, Any]:
        key = keys[number]
        body = f"{number:06d}"
        if key in kept:
            linked_copy(folder / kept[key]["body"], partial / body)
            return {**kept[key], "body": body}
        answer = client.get_object(Bucket=bucket, Key=key)
        (partial / body).write_bytes(answer["Body"].read())
        headers = {name: answer[name] for name in KEPT_HEADERS if answer.get(name)}
        if answer.get("Metadata"):
            headers["Metadata"] = answer["Metadata"]
        grants = client.get_object_acl(Bucket=bucket, Key=key)["Grants"]
        public = any(
            grant["Grantee"].get("URI") == ALL_USERS and grant["Permission"] == "READ"
            for grant in grants
        )
        return {"key": key, "body": body, "headers": headers, "public_read": public}

    with ThreadPoolExecutor(_CONCURRENCY) as pool:
        entries = list(pool.map(save, range(len(keys))))
    (partial / INDEX).write_text(json.dumps(entries, indent=1))
    # A lifecycle rule's dates are datetimes; botocore takes them back as ISO strings.
    (partial / SETTINGS).write_text(json.dumps(_settings(client, bucket), indent=1, default=str))
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    partial.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return len(entries)


def _settings(client: Any, bucket: str) -> dict[str, Any]:
    """The bucket's policy, CORS rules and lifecycle rules, those it has."""
    from botocore.exceptions import ClientError

    kept = {}
    for get, _, field, _ in _SETTINGS:
        try:
            kept[field] = getattr(client, get)(Bucket=bucket)[field]
        except ClientError as exc:  # NoSuchBucketPolicy, NoSuchCORSConfiguration, ...
            if not exc.response.get("Error", {}).get("Code", "").startswith("NoSuch"):
                raise
    return kept


def _put_settings(client: Any, bucket: str, kept: dict[str, Any]) -> None:
    for _, put, field, wrapper in _SETTINGS:
        if field in kept:
            argument = {field: kept[field]}
            getattr(client, put)(
                Bucket=bucket, **(argument if wrapper is None else {wrapper: argument})
            )


# Each setting kept: the calls that read and write it, the field that holds it in the first's
# answer, and the argument of the second that wraps that field, if one does.
_SETTINGS = (
    ("get_bucket_policy", "put_bucket_policy", "Policy", None),
    ("get_bucket_cors", "put_bucket_cors", "CORSRules", "CORSConfiguration"),
    (
        "get_bucket_lifecycle_configuration",
        "put_bucket_lifecycle_configuration",
        "Rules",
        "LifecycleConfiguration",
    ),
)


def restore_bucket(client: Any, bucket: str, folder: Path) -> Listing:
    """Puts the objects saved in ``folder`` into ``bucket``; returns them as listed after, for
    ``save_bucket`` to tell which the build left alone.

    Each gets the LastModified of its restore: S3 sets it and cannot be told otherwise. That
    is safe for pruning (bucket/pruning.py), which only ever deletes what is old enough: assets
    and retired release records older than PRUNE_GRACE, intents older than FORGET_AFTER. An
    object restored looks younger than it is, so it is kept longer, never deleted sooner.
    Release records keep their names, which carry their own time, so their order is kept. A
    prune's marker left without its .done by a killed run looks recent too: the next build
    waits at most PRUNE_LEASE for it, as it would on S3 right after the kill."""
    index = folder / INDEX
    if not index.is_file():
        return {}
    from boto3.s3.transfer import TransferConfig

    entries = json.loads(index.read_text())
    # Uploaded as the buildpack uploads, so that a large object's multipart ETag, which the
    # build compares with its files', is the one it had.
    config = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE)

    def restore(entry: dict[str, Any]) -> None:
        extra = dict(entry["headers"])
        if entry["public_read"]:
            extra["ACL"] = PUBLIC_READ
        client.upload_file(
            str(folder / entry["body"]), bucket, entry["key"], ExtraArgs=extra, Config=config
        )

    with ThreadPoolExecutor(_CONCURRENCY) as pool:
        list(pool.map(restore, entries))
    if (folder / SETTINGS).is_file():
        _put_settings(client, bucket, json.loads((folder / SETTINGS).read_text()))
    # LastModified counts whole seconds: once the restore's last one is over, any write of the
    # build shows as a change to save_bucket, even one that keeps the ETag.
    time.sleep(1 - time.time() % 1)
    return list_objects(client, bucket)
