"""The bucket check and the listing of static/: what the compile step waits on, however fetched.

On a redeploy that changes nothing, the listing is the longest wait of the build. So bin/compile
and bin/build start a process of its own for it (platforms/listerprocess.py, which calls
``serve``) before anything else, and the build reads its answers from a pipe
(``ListerAnswers``): the requests go out while the build's Python is still starting. The build's
process then needs no S3 client at all unless it uploads, records a release or prunes. The
compile step sees only ``BucketAnswers``.

On the pipe the answers are two lines of JSON, each sent as soon as it is known: the bucket
check's, which the build looks at before it collects, then the listing, which it reads once
STATIC_ROOT is scanned. Each line is {"ok": ...}, {"error": "what to tell the user"} or
{"bug": "a traceback"}; the check's "ok" holds what it found out (BucketFacts). The listing's line
also says, in "seconds", how long the fetch took to list (null if it did not).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO, TypeVar

from herokuify_buildpack.bucket.cuts import ListingCuts
from herokuify_buildpack.bucket.facts import BucketFacts
from herokuify_buildpack.bucket.listing import RemoteObject, list_prefix
from herokuify_buildpack.config import S3Config, UploadSettings
from herokuify_buildpack.errors import HerokuifyError

T = TypeVar("T")


class BucketAnswers:
    """The bucket check and the listing of static/, each resolved once it has come."""

    def __init__(self) -> None:
        self.check: Future[BucketFacts] = Future()
        self.objects: Future[dict[str, RemoteObject]] = Future()
        # Seconds from the start of the fetch to the listing, known once ``objects`` is.
        self.listed_in: float | None = None

    def bucket_check_so_far(self) -> None:
        """Raises the bucket check's error if its answer has come; waits for nothing.

        S3 answers the check in one round trip, long before Django has started, so a missing
        bucket or a wrong region stops the build before it collects. A store slower than that
        only delays the error to the listing (read before any upload), never the build."""
        if self.check.done():
            self.check.result()

    def listing(self) -> dict[str, RemoteObject]:
        """What static/ holds; raises the bucket check's error first, if there was one."""
        self.check.result()
        return self.objects.result()

    def bucket_facts(self) -> BucketFacts:
        return self.check.result()


def fetch(s3: S3Config, settings: UploadSettings, cuts: ListingCuts) -> BucketAnswers:
    """Checks the bucket and lists static/ in this process, both at once, by threads.

    ``cuts``: where the last build's listing says to cut this one (see cuts.py). S3's refusals
    arrive as catalogued errors; anything else is a bug."""
    # botocore is imported only here: a process that never fetches never pays for it.
    from herokuify_buildpack.bucket.client import check_bucket, explain, make_client

    started = time.monotonic()
    answers = BucketAnswers()
    client = make_client(s3, settings.concurrency, settings.read_timeout)

    def explained(work: Callable[[], T], doing: str) -> Callable[[], T]:
        def run() -> T:
            try:
                return work()
            except HerokuifyError:
                raise
            except Exception as exc:
                raise explain(exc, s3, doing) from exc

        return run

    # The check goes out first, so that its answer comes before the build collects: a server
    # busy with the listing's ranges could otherwise answer it last.
    def check() -> BucketFacts:
        return check_bucket(client, s3)

    def list_static() -> dict[str, RemoteObject]:
        listed = list_prefix(client, s3.bucket, s3.static_prefix, cuts, settings.concurrency)
        answers.listed_in = time.monotonic() - started
        return listed

    _in_background(explained(check, "checking the bucket"), answers.check)
    _in_background(explained(list_static, "listing the bucket"), answers.objects)
    return answers


class ListerAnswers(BucketAnswers):
    """The answers of the lister process, read from its pipe by a thread as they come.

    ``log``: where the process's stderr goes, shown if it ends without answering."""

    def __init__(self, stream: BinaryIO, log: Path | None = None) -> None:
        super().__init__()
        self._log = log
        threading.Thread(
            target=self._read, args=(stream,), name="herokuify-answers", daemon=True
        ).start()

    def _read(self, stream: BinaryIO) -> None:
        answers: tuple[tuple[Future[Any], Callable[[Any], Any]], ...] = (
            (self.check, _decoded_facts),
            (self.objects, _decoded),
        )
        for answer, decode in answers:
            try:
                line = stream.readline()
                if not line:
                    raise RuntimeError(
                        f"the listing process ended without answering{_last_lines(self._log)}"
                    )
                parsed = json.loads(line)
                if answer is self.objects:
                    self.listed_in = parsed.get("seconds")  # none on a bug or a refusal
                answer.set_result(decode(_unpacked(parsed)))
            except Exception as exc:
                answer.set_exception(exc)


def serve(s3: S3Config, settings: UploadSettings, cuts: ListingCuts, out: TextIO) -> None:
    """The lister's side of the pipe: fetch, and send each answer as it comes."""
    try:
        answers = fetch(s3, settings, cuts)
        _send(out, _outcome(answers.check, _encoded_facts))
        _send(out, _outcome(answers.objects, _encoded) | {"seconds": answers.listed_in})
    except HerokuifyError as exc:  # no credentials to make a client with
        refuse(out, exc)
    except Exception:
        _send(out, {"bug": traceback.format_exc()})


def refuse(out: TextIO, error: HerokuifyError) -> None:
    """Answers with ``error`` alone, when the config vars are wrong or boto3's chain finds no
    credentials. The build's process reads the same table, asks the same chain, and stops on the
    same error first; this answer only keeps it from waiting."""
    _send(out, {"error": str(error)})


def _unpacked(answer: dict[str, Any]) -> Any:
    if "error" in answer:
        raise HerokuifyError(answer["error"])
    if "bug" in answer:
        raise RuntimeError(f"the listing process failed:\n{answer['bug']}")
    return answer["ok"]


def _last_lines(log: Path | None, count: int = 10) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()[-count:] if log else []
    except OSError:
        lines = []
    return "; the last lines it wrote:\n" + "\n".join(lines) if lines else ""


def _encoded_facts(facts: BucketFacts) -> dict[str, Any]:
    return dataclasses.asdict(facts)


def _decoded_facts(facts: dict[str, Any]) -> BucketFacts:
    return BucketFacts(**facts)


def _decoded(listing: dict[str, list[Any]]) -> dict[str, RemoteObject]:
    return {
        key: RemoteObject(etag, size, datetime.fromisoformat(last_modified))
        for key, (etag, size, last_modified) in listing.items()
    }


def _encoded(objects: dict[str, RemoteObject]) -> dict[str, list[Any]]:
    return {
        key: [held.etag, held.size, held.last_modified.isoformat()] for key, held in objects.items()
    }


def _outcome(answer: Future[T], encode: Callable[[T], Any]) -> dict[str, Any]:
    try:
        return {"ok": encode(answer.result())}
    except HerokuifyError as exc:
        return {"error": str(exc)}
    except Exception:
        return {"bug": traceback.format_exc()}


def _send(out: TextIO, answer: dict[str, Any]) -> None:
    out.write(json.dumps(answer) + "\n")
    out.flush()


def _in_background(work: Callable[[], T], result: Future[T]) -> None:
    """Runs ``work`` in a daemon thread: when the build has ended and an answer finds no
    reader, the lister exits at once instead of waiting for its requests."""

    def run() -> None:
        try:
            result.set_result(work())
        except BaseException as exc:  # handed to whoever reads the result
            result.set_exception(exc)

    threading.Thread(target=run, name="herokuify-s3", daemon=True).start()
