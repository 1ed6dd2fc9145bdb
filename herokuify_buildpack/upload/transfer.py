"""Uploads files in parallel through s3transfer, which switches to multipart for large files, and
gives objects whose bytes are current the headers they should have.

Every upload that S3 confirms is recorded with the ETag S3 answered, so the build cache only
ever holds what is really in the bucket.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from s3transfer.manager import TransferConfig, TransferManager
from s3transfer.subscribers import BaseSubscriber

from herokuify_buildpack.bucket.client import refuses_acl
from herokuify_buildpack.upload.etag import PART_SIZE
from herokuify_buildpack.upload.localfiles import LocalFile

_CONFIRMING_OPERATIONS = ("PutObject", "CompleteMultipartUpload")
_ACL_CARRYING_OPERATIONS = ("PutObject", "CreateMultipartUpload", "CopyObject")


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


class AclDrop:
    """Once the store refuses an object's ACL, takes it off every later request of the upload
    (see bucket/aclrefusal.py), where it is ``allowed``: HEROKUIFY_STATIC_ACL unset.

    Requests already sent when the first refusal comes back are refused too, at most one for
    each request in flight; ``again`` sends their files once more, without the ACL."""

    def __init__(self, client: Any, allowed: bool) -> None:
        self.client = client
        self.allowed = allowed
        self.refused_acl: str | None = None  # the ACL the store refused, once it has
        self._refused: set[str] = set()  # keys whose request the store refused for its ACL
        self._taken: set[str] = set()  # keys whose request with the ACL the store took
        self._lock = threading.Lock()
        self._handlers = [
            (f"{event}.s3.{operation}", handler)
            for operation in _ACL_CARRYING_OPERATIONS
            for event, handler in (
                ("before-parameter-build", self._strip),
                ("after-call", self._notice),
            )
        ]

    def __enter__(self) -> AclDrop:
        if self.allowed:
            for event_name, handler in self._handlers:
                self.client.meta.events.register(event_name, handler)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.allowed:
            for event_name, handler in self._handlers:
                self.client.meta.events.unregister(event_name, handler)

    @property
    def dropped(self) -> bool:
        return self.refused_acl is not None

    def again(
        self, report: TransferReport, send: Callable[[list[LocalFile]], TransferReport]
    ) -> TransferReport:
        """``report``, with the files the store refused for their ACL sent once more without
        it by ``send``."""
        with self._lock:
            refused = [file for file, _ in report.failed if file.key in self._refused]
        if not refused:
            return report
        keys = {file.key for file in refused}
        report.failed = [(file, exc) for file, exc in report.failed if file.key not in keys]
        report.merge(send([file.without_acl() for file in refused]))
        return report

    def given(self, file: LocalFile) -> LocalFile:
        """``file`` with the headers its object was given: without the ACL once it was dropped,
        unless the store took it before."""
        with self._lock:
            kept = not self.dropped or file.key in self._taken
        return file if kept else file.without_acl()

    def acl_to_send(self, acl: str | None) -> str | None:
        """The ACL a request about to go out carries."""
        return None if self.dropped else acl

    def answered(self, key: str, acl: str, *, ok: bool, answer: Mapping[str, Any]) -> None:
        """What the store said to a request that carried ``acl``: ``answer`` as botocore
        parses it."""
        with self._lock:
            if ok:
                self._taken.add(key)
            elif refuses_acl(answer):
                self.refused_acl = acl
                self._refused.add(key)

    def _strip(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        acl = self.acl_to_send(params.pop("ACL", None))
        if acl:
            params["ACL"] = acl
        context["herokuify_acl"] = (params.get("Key"), acl)

    def _notice(
        self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        key, acl = context.get("herokuify_acl", (None, None))
        if acl:
            self.answered(key, acl, ok=http_response.status_code < 300, answer=parsed)


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
