"""Whether browsers can load static files: one anonymous GET of one published object.

A bucket without ACLs needs a policy for public reads, and Block Public Access can veto that
policy; neither shows in any answer the upload gets. The build therefore asks as a browser
would, in a thread beside the rest of its work, and warns (it does not fail: every object is
in place, and a failed deploy would not make the running release readable either).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from herokuify_buildpack import errors
from herokuify_buildpack.bucket.rules import aws_cli, public_read_statement
from herokuify_buildpack.config import S3Config

_TIMEOUT = 10  # seconds; a store this slow to serve one byte has a problem of its own
READABLE = (200, 206)


def anonymous_status(url: str) -> int | str:
    """The HTTP status an anonymous GET of ``url``'s first byte gets, or the name of the
    failure. One byte is enough to know; a HEAD would do too, but some CDNs treat HEAD apart."""
    request = urllib.request.Request(url, headers={"Range": "bytes=0-0"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:  # an http(s) URL
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError as exc:
        return type(exc).__name__


def public_read_policy(bucket: str, static_prefix: str) -> str:
    """The bucket policy that lets anyone read static/*, on one line, to paste."""
    statement = public_read_statement(bucket, static_prefix)
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class PublicReadCheck:
    """``start(name)`` asks for one object in a thread; ``problem()`` waits for the answer and
    says what is wrong, or None."""

    def __init__(self, s3: S3Config, client: Callable[[], Any]) -> None:
        self.s3 = s3
        self.client = client  # the build's, for GetPublicAccessBlock after a refusal
        self._answer: str | int | None = None
        self._url = ""
        self._thread: threading.Thread | None = None

    def start(self, name: str) -> None:
        self._url = self.s3.public_url(self.s3.static_prefix) + urllib.parse.quote(name)
        self._thread = threading.Thread(target=self._ask, name="herokuify-public-read", daemon=True)
        self._thread.start()

    def problem(self) -> str | None:
        if self._thread is None:
            return None
        self._thread.join()
        answer, url, bucket = self._answer, self._url, self.s3.bucket
        if answer is None:
            return None
        if answer not in (401, 403):
            return str(errors.PUBLIC_URL_FAILS(url=url, answer=answer))
        fields = {
            "url": url,
            "status": answer,
            "bucket": bucket,
            "policy": public_read_policy(bucket, self.s3.static_prefix),
            "command": aws_cli(self.s3, "put-bucket-policy"),
        }
        if self.s3.custom_domain:
            return str(errors.CDN_READS_DENIED(**fields))
        if self._public_access_blocked():
            return str(errors.PUBLIC_READS_BLOCKED(**fields))
        return str(errors.PUBLIC_READS_DENIED(**fields))

    def _ask(self) -> None:
        status = anonymous_status(self._url)
        self._answer = None if status in READABLE else status

    def _public_access_blocked(self) -> bool:
        """Whether the bucket's own Block Public Access vetoes public policies. The account's
        cannot be read with the bucket's keys; the warning names it."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client().get_public_access_block(Bucket=self.s3.bucket)
        except (BotoCoreError, ClientError):  # no configuration, no permission, no such call
            return False
        settings = answer.get("PublicAccessBlockConfiguration", {})
        return bool(settings.get("BlockPublicPolicy") or settings.get("RestrictPublicBuckets"))
