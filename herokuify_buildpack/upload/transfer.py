"""Uploads files in parallel through s3transfer, which switches to multipart for large files, and
gives objects whose bytes are current the headers they should have.

Every upload that S3 confirms is recorded with the ETag S3 answered, so the build cache only
ever holds what is really in the bucket.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from s3transfer.manager import TransferConfig, TransferManager
from s3transfer.subscribers import BaseSubscriber

from herokuify_buildpack.upload.etag import PART_SIZE
from herokuify_buildpack.upload.localfiles import LocalFile

_CONFIRMING_OPERATIONS = ("PutObject", "CompleteMultipartUpload")


@dataclass
class TransferReport:
    confirmed: dict[str, str] = field(default_factory=dict)  # key -> ETag from S3
    failed: list[tuple[LocalFile, Exception]] = field(default_factory=list)
    bytes_sent: int = 0

    def merge(self, other: TransferReport) -> None:
        self.confirmed.update(other.confirmed)
        self.failed.extend(other.failed)
        self.bytes_sent += other.bytes_sent


class _Progress(BaseSubscriber):  # type: ignore[misc]
    def __init__(self, report: TransferReport) -> None:
        self.report = report
        self.done = 0
        self.lock = threading.Lock()

    def on_progress(self, bytes_transferred: int, **_: Any) -> None:
        with self.lock:
            self.report.bytes_sent += bytes_transferred

    def on_done(self, **_: Any) -> None:
        with self.lock:
            self.done += 1


def upload(
    client: Any,
    bucket: str,
    files: list[LocalFile],
    *,
    concurrency: int,
    on_tick: Callable[[int, int, int], None],
    tick_seconds: float = 5.0,
) -> TransferReport:
    """``on_tick(done, total, bytes)`` is called every ``tick_seconds`` while uploads run."""
    report = TransferReport()
    unregister = _record_confirmations(client, report.confirmed)
    config = TransferConfig(
        multipart_threshold=PART_SIZE,
        multipart_chunksize=PART_SIZE,
        max_request_concurrency=concurrency,
    )
    progress = _Progress(report)
    finished = threading.Event()

    def tick() -> None:
        # A thread of its own: submitting blocks while s3transfer's queue is full.
        while not finished.wait(tick_seconds):
            on_tick(progress.done, len(files), report.bytes_sent)

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        with TransferManager(client, config) as manager:
            futures = [
                manager.upload(
                    str(file.path),
                    bucket,
                    file.key,
                    extra_args=file.headers,
                    subscribers=[progress],
                )
                for file in files
            ]
    finally:
        finished.set()
        ticker.join()
        unregister()
    for file, future in zip(files, futures, strict=True):
        try:
            future.result()
        except Exception as exc:
            report.failed.append((file, exc))
    return report


def copy_headers(
    client: Any, bucket: str, files: list[LocalFile], concurrency: int
) -> TransferReport:
    """Copies each object onto itself with ``MetadataDirective=REPLACE`` and the file's headers:
    one request each, and no byte sent again. Only for objects up to plan.COPY_LIMIT."""
    report = TransferReport()

    def copy(file: LocalFile) -> str:
        answer = client.copy_object(
            Bucket=bucket,
            Key=file.key,
            CopySource={"Bucket": bucket, "Key": file.key},
            MetadataDirective="REPLACE",
            **file.headers,
        )
        return str(answer["CopyObjectResult"]["ETag"]).strip('"')

    with ThreadPoolExecutor(concurrency, thread_name_prefix="herokuify-copy") as pool:
        futures = [(file, pool.submit(copy, file)) for file in files]
    for file, future in futures:
        try:
            report.confirmed[file.key] = future.result()
        except Exception as exc:
            report.failed.append((file, exc))
    return report


def _record_confirmations(client: Any, confirmed: dict[str, str]) -> Callable[[], None]:
    """botocore events carry a per-request context from parameter building to the response.

    Returns the function that removes the handlers, so a later upload has its own record.
    """

    def remember_key(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["herokuify_key"] = params.get("Key")

    def remember_etag(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        key = context.get("herokuify_key")
        if key and parsed.get("ETag"):
            confirmed[key] = parsed["ETag"].strip('"')

    handlers = [
        (f"{event}.s3.{operation}", handler)
        for operation in _CONFIRMING_OPERATIONS
        for event, handler in (
            ("before-parameter-build", remember_key),
            ("after-call", remember_etag),
        )
    ]
    for event_name, handler in handlers:
        client.meta.events.register(event_name, handler)

    def unregister() -> None:
        for event_name, handler in handlers:
            client.meta.events.unregister(event_name, handler)

    return unregister
