"""The bucket check and the listing of static/, fetched by a process of their own.

On a redeploy that changes nothing, the listing is the longest wait of the build. So bin/compile
starts this process before anything else, and hands its output to the build's process as a file
descriptor: the requests go out while the build's Python is still starting. The build's process
then needs no S3 client at all unless it uploads, records a release or prunes.

The answers are two lines of JSON, each sent as soon as it is known: the bucket check's, which
the build reads before it collects, then the listing, which it reads once STATIC_ROOT is
scanned. Each line is {"ok": ...}, {"error": "what to tell the user"} or {"bug": "a traceback"}.

bin/compile runs it as ``herokuify_buildpack.build list-bucket ENV_DIR``, from the buildpack.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any, BinaryIO, TextIO

from herokuify_buildpack.config import STATIC_PREFIX, S3Config
from herokuify_buildpack.errors import BuildError
from herokuify_buildpack.upload.cuts import ListingCuts
from herokuify_buildpack.upload.options import UploadSettings
from herokuify_buildpack.upload.remote import RemoteObject, in_background, list_prefix


class ListerAnswers:
    """The build's end of the pipe. Each answer is read when the build first needs it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._answers: list[dict[str, Any]] = []

    def bucket_checked(self) -> None:
        """Raises BuildError if the bucket is missing, unreachable or in another region."""
        self._answer(0)

    def listing(self) -> dict[str, RemoteObject]:
        return {
            key: RemoteObject(etag, size, datetime.fromisoformat(last_modified))
            for key, (etag, size, last_modified) in self._answer(1).items()
        }

    def _answer(self, index: int) -> Any:
        while len(self._answers) <= index:
            line = self._stream.readline()
            if not line:
                raise RuntimeError("the listing process ended without answering")
            self._answers.append(json.loads(line))
        answer = self._answers[index]
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
        listing = in_background(
            lambda: list_prefix(client, s3.bucket, STATIC_PREFIX, cuts, settings.concurrency)
        )
        _send(out, _outcome(lambda: check_bucket(client, s3), s3, "checking the bucket"))
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
