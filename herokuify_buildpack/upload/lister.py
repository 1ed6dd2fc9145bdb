"""The bucket check and the listing of static/, fetched by a process of their own.

On a redeploy that changes nothing, the listing is the longest wait of the build. So bin/compile
starts this process before anything else, and hands its output to the build's process as a file
descriptor: the requests go out while the build's Python is still starting. The build's process
then needs no S3 client at all unless it uploads, records a release or prunes.

The answers are two lines of JSON, each sent as soon as it is known: the bucket check's, which
the build looks at before it collects, then the listing, which it reads once STATIC_ROOT is
scanned. Each line is {"ok": ...}, {"error": "what to tell the user"} or {"bug": "a traceback"}.

bin/compile runs it as ``herokuify_buildpack.build list-bucket CACHE_DIR ENV_DIR``, from the
buildpack's own copy of this package.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any, BinaryIO, TextIO, TypeVar

from herokuify_buildpack.config import STATIC_PREFIX, S3Config
from herokuify_buildpack.errors import BuildError
from herokuify_buildpack.upload.cuts import ListingCuts
from herokuify_buildpack.upload.options import UploadSettings
from herokuify_buildpack.upload.remote import RemoteObject, list_prefix

T = TypeVar("T")


class ListerAnswers:
    """The build's end of the pipe, read by a thread as the answers come."""

    def __init__(self, stream: BinaryIO) -> None:
        self._check: Future[dict[str, Any]] = Future()
        self._listing: Future[dict[str, Any]] = Future()
        threading.Thread(
            target=self._read, args=(stream,), name="herokuify-answers", daemon=True
        ).start()

    def bucket_check_so_far(self) -> None:
        """Raises the bucket check's error if its answer has come; waits for nothing.

        S3 answers the check in one round trip, long before Django has started, so a missing
        bucket or a wrong region stops the build before it collects. A store slower than that
        only delays the error to the listing (read before any upload), never the build."""
        if self._check.done():
            _unpacked(self._check.result())

    def listing(self) -> dict[str, RemoteObject]:
        """What static/ holds; raises the bucket check's error first, if there was one."""
        _unpacked(self._check.result())
        return {
            key: RemoteObject(etag, size, datetime.fromisoformat(last_modified))
            for key, (etag, size, last_modified) in _unpacked(self._listing.result()).items()
        }

    def _read(self, stream: BinaryIO) -> None:
        for answer in (self._check, self._listing):
            try:
                line = stream.readline()
                if not line:
                    raise RuntimeError("the listing process ended without answering")
                answer.set_result(json.loads(line))
            except Exception as exc:
                answer.set_exception(exc)


def _unpacked(answer: dict[str, Any]) -> Any:
    if "error" in answer:
        raise BuildError(answer["error"])
    if "bug" in answer:
        raise RuntimeError(f"the listing process failed:\n{answer['bug']}")
    return answer["ok"]


def serve(s3: S3Config, settings: UploadSettings, cuts: ListingCuts, out: TextIO) -> None:
    """The lister's side: check the bucket and list static/, both at once, and send the answers.

    ``cuts``: where the last build's listing says to cut this one (see cuts.py)."""
    try:
        # botocore is imported only here, inside the try: a failure is reported, not lost.
        from herokuify_buildpack.upload.s3client import check_bucket, make_client

        client = make_client(s3, settings.concurrency, settings.read_timeout)
        # The check goes out first, so that its answer comes before the build collects: a
        # server busy with the listing's ranges could otherwise answer it last.
        checked = _in_background(lambda: check_bucket(client, s3))
        listing = _in_background(
            lambda: list_prefix(client, s3.bucket, STATIC_PREFIX, cuts, settings.concurrency)
        )
        _send(out, _outcome(checked.result, s3, "checking the bucket"))
        _send(out, _outcome(lambda: _encoded(listing.result()), s3, "listing the bucket"))
    except Exception:
        _send(out, {"bug": traceback.format_exc()})


def _outcome(work: Callable[[], Any], s3: S3Config, doing: str) -> dict[str, Any]:
    try:
        return {"ok": work()}
    except BuildError as exc:
        return {"error": str(exc)}
    except Exception as exc:
        from herokuify_buildpack.upload.s3client import explain

        try:
            return {"error": str(explain(exc, s3, doing))}
        except Exception:  # explain re-raises what is not an S3 failure: a bug
            return {"bug": traceback.format_exc()}


def _encoded(objects: dict[str, RemoteObject]) -> dict[str, list[Any]]:
    return {
        key: [held.etag, held.size, held.last_modified.isoformat()] for key, held in objects.items()
    }


def _send(out: TextIO, answer: dict[str, Any]) -> None:
    out.write(json.dumps(answer) + "\n")
    out.flush()


def _in_background(work: Callable[[], T]) -> Future[T]:
    """Runs ``work`` in a daemon thread: when the build has ended and an answer finds no
    reader, the lister exits at once instead of waiting for its requests."""
    result: Future[T] = Future()

    def run() -> None:
        try:
            result.set_result(work())
        except BaseException as exc:  # handed to whoever reads the result
            result.set_exception(exc)

    threading.Thread(target=run, name="herokuify-s3", daemon=True).start()
    return result
