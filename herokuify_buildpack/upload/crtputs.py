"""Single PUTs through the AWS Common Runtime's S3 client (awscrt, what boto3's ``crt`` extra
installs), whose signing, HTTP and retries run in C. botocore's CPU per request bounds a
build that sends many small files; this one spends a fraction of it.

botocore still decides what each request is: its endpoint rules give the URL (region,
addressing style, the store's endpoint), its model the header of each argument, and its parser
reads S3's refusals into the ClientError that the rest of the build explains. The upload keeps
the botocore path's promises: one request per file unless it fails, no checksum a store would
refuse, the ACL dropped on the first refusal, retries with backoff and no retry quota, a request
S3 leaves unanswered given up on, and each failure named by the error catalogue.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.awsrequest import HeadersDict
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.parsers import create_parser

from herokuify_buildpack import errors
from herokuify_buildpack.bucket import credentials
from herokuify_buildpack.bucket.client import ATTEMPTS
from herokuify_buildpack.config import S3Config, UploadSettings
from herokuify_buildpack.upload.etag import PART_SIZE
from herokuify_buildpack.upload.localfiles import LocalFile
from herokuify_buildpack.upload.transfer import AclDrop, TransferReport

_BACKOFF_MS = 500  # before the nth retry, CRT waits up to this times 2**(n-1), with jitter
_MOST_BACKOFF = sum(_BACKOFF_MS * 2**retry for retry in range(ATTEMPTS - 1)) / 1000
# CRT's standard retry strategy holds a token bucket per host, which a build's one burst of
# failures would empty (botocore's quota, which bucket/client.py avoids for the same reason).
_NO_RETRY_QUOTA = 1_000_000
# CRT error names that mean the store was never reached; other failures are a dropped answer.
_UNREACHABLE = ("CONNECTION_REFUSED", "DNS", "NO_ROUTE", "NETWORK_DOWN", "TLS_ERROR_NEGOTIATION")
_CANCELED = "AWS_ERROR_S3_CANCELED"
# What CRT reports, without the answer, when S3's 500s or 503s outlast the retries.
_RETRIED_ANSWERS = {
    "AWS_ERROR_S3_INTERNAL_ERROR": (500, "InternalError"),
    "AWS_ERROR_S3_SLOW_DOWN": (503, "SlowDown"),
}


def carries(file: LocalFile) -> bool:
    """Whether this path sends ``file``: a large file goes as a multipart upload through
    s3transfer, in the parts whose ETag upload/etag.py expects."""
    return file.size < PART_SIZE


def installed() -> bool:
    """awscrt 0.38 or later: the first with every S3 client option set here."""
    try:
        from awscrt.s3 import S3Client
    except ImportError:
        return False
    return "connect_timeout_ms" in inspect.signature(S3Client).parameters


def chosen(settings: UploadSettings) -> bool:
    """Whether the CRT carries the build's PUTs: HEROKUIFY_UPLOAD_CLIENT, else whether awscrt
    is installed."""
    if settings.upload_client is None:
        return installed()
    if settings.upload_client == "crt" and not installed():
        raise errors.CRT_MISSING()
    return settings.upload_client == "crt"


@dataclass
class _InFlight:
    file: LocalFile
    acl: str | None  # the ACL it was sent with
    started: float
    request: Any = None  # awscrt's S3Request, to cancel
    etag: str | None = None


class CrtPuts:
    def __init__(self, client: Any, s3: S3Config, settings: UploadSettings) -> None:
        from awscrt import auth, http
        from awscrt import s3 as crt

        self._crt = crt
        self._http = http
        probe = "herokuify-probe"
        url = urlsplit(
            client.generate_presigned_url(
                "put_object", Params={"Bucket": s3.bucket, "Key": probe}, ExpiresIn=60
            )
        )
        self._endpoint = f"{url.scheme}://{url.netloc}"
        self._host = url.netloc
        self._base_path = url.path[: -len(probe)]
        self._concurrency = settings.concurrency
        # CRT has no read timeout: a request S3 never answers is given up on where botocore's
        # would be at the latest, each attempt silent for read_timeout.
        self._silent_limit = settings.read_timeout * ATTEMPTS + _MOST_BACKOFF
        model = client.meta.service_model.operation_model("PutObject")
        self._header_names = {
            name: shape.serialization["name"]
            for name, shape in model.input_shape.members.items()
            if shape.serialization.get("location") == "header"
        }
        self._error_parser = create_parser("rest-xml")
        self._error_shape = model.output_shape
        region = client.meta.region_name or "us-east-1"
        self._client = crt.S3Client(
            region=region,
            tls_mode=crt.S3RequestTlsMode.ENABLED
            if url.scheme == "https"
            else crt.S3RequestTlsMode.DISABLED,
            signing_config=crt.create_default_s3_signing_config(
                region=region, credential_provider=_credentials(s3, auth)
            ),
            max_active_connections_override=settings.concurrency,
            retry_config=crt.S3RetryConfig(
                max_retries=ATTEMPTS - 1,
                backoff_scale_factor_ms=_BACKOFF_MS,
                initial_bucket_capacity=_NO_RETRY_QUOTA,
            ),
            connect_timeout_ms=5000,
        )
        # What botocore sends with each upload (bucket/client.checksum_options): a CRC32 where
        # the store is AWS, none where stores refuse it.
        self._checksum = (
            crt.S3ChecksumConfig(
                algorithm=crt.S3ChecksumAlgorithm.CRC32, location=crt.S3ChecksumLocation.HEADER
            )
            if s3.checksum_mode == "when_supported"
            else None
        )

    def upload(
        self,
        files: list[LocalFile],
        acl: AclDrop,
        *,
        on_tick: Callable[[int, int, int], None],
        tick_seconds: float = 5.0,
    ) -> TransferReport:
        """Each file's PUT, at most ``concurrency`` at once; ``on_tick(done, total, bytes)``
        every ``tick_seconds`` while they run."""
        report = TransferReport()
        lock = threading.Lock()
        slots = threading.BoundedSemaphore(self._concurrency)
        in_flight: dict[str, _InFlight] = {}
        done = 0
        finished = threading.Event()

        def answered(sent: _InFlight, failure: Exception | None) -> None:
            nonlocal done
            with lock:
                in_flight.pop(sent.file.key, None)
                done += 1
                if failure is None and sent.etag is not None:
                    report.confirmed[sent.file.key] = sent.etag
                    report.bytes_sent += sent.file.size
                else:
                    report.failed.append((sent.file, failure or _no_etag(self._endpoint)))
            slots.release()

        def watch() -> None:
            """Ticks, and cancels what S3 has left unanswered past botocore's limit."""
            next_tick = time.monotonic() + tick_seconds
            while not finished.wait(1.0):
                now = time.monotonic()
                with lock:
                    silent = [
                        sent.request
                        for sent in in_flight.values()
                        if sent.request is not None and now - sent.started > self._silent_limit
                    ]
                    counts = (done, len(files), report.bytes_sent)
                for request in silent:
                    request.cancel()
                if now >= next_tick:
                    on_tick(*counts)
                    next_tick = now + tick_seconds

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            for file in files:
                slots.acquire()
                sent = _InFlight(file, acl.acl_to_send(file.acl), time.monotonic())
                with lock:
                    in_flight[file.key] = sent
                try:
                    sent.request = self._put(sent, acl, answered)
                except Exception as exc:  # not sent: explained, or raised as a bug, with the rest
                    answered(sent, exc)
            for _ in range(self._concurrency):  # every slot back: every PUT answered
                slots.acquire()
        finally:
            finished.set()
            watcher.join()
        return report

    def _put(
        self,
        sent: _InFlight,
        acl: AclDrop,
        answered: Callable[[_InFlight, Exception | None], None],
    ) -> Any:
        crt = self._crt
        file = sent.file
        headers = [("Host", self._host), ("Content-Length", str(file.size))]
        headers += [
            (self._header_names[name], value)
            for name, value in file.headers.items()
            if name != "ACL"
        ]
        if sent.acl:
            headers.append((self._header_names["ACL"], sent.acl))
        path = self._base_path + quote(file.key, safe="/~")
        request = self._http.HttpRequest("PUT", path, self._http.HttpHeaders(headers))

        def on_headers(status_code: int, headers: list[tuple[str, str]], **_: Any) -> None:
            if status_code < 300:
                sent.etag = (
                    dict((name.lower(), value) for name, value in headers)
                    .get("etag", "")
                    .strip('"')
                    or None
                )

        def on_done(
            error: Exception | None,
            error_headers: list[tuple[str, str]] | None,
            error_body: bytes | None,
            status_code: int | None,
            **_: Any,
        ) -> None:
            failure = None
            if error is not None:
                failure = self._failure(error, error_headers, error_body, status_code)
            if sent.acl:
                answer = failure.response if isinstance(failure, ClientError) else {}
                acl.answered(file.key, sent.acl, ok=error is None, answer=answer)
            answered(sent, failure)

        return self._client.make_request(
            type=crt.S3RequestType.DEFAULT,
            operation_name="PutObject",
            request=request,
            send_filepath=str(file.path),
            checksum_config=self._checksum,
            on_headers=on_headers,
            on_done=on_done,
        )

    def _failure(
        self,
        error: Exception,
        headers: list[tuple[str, str]] | None,
        body: bytes | None,
        status_code: int | None,
    ) -> Exception:
        """The botocore exception for what went wrong, for bucket/client.explain."""
        if status_code:
            answer = {
                "status_code": status_code,
                "headers": HeadersDict(headers or []),
                "body": body or b"",
            }
            parsed = self._error_parser.parse(answer, self._error_shape)
            return ClientError(parsed, "PutObject")
        name = str(getattr(error, "name", ""))
        if name in _RETRIED_ANSWERS:
            status, code = _RETRIED_ANSWERS[name]
            answer = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
            return ClientError(answer, "PutObject")  # type: ignore[arg-type]
        if name == _CANCELED:
            return ReadTimeoutError(endpoint_url=self._endpoint)
        if any(part in name for part in _UNREACHABLE):
            return EndpointConnectionError(endpoint_url=self._endpoint)
        return ConnectionClosedError(endpoint_url=self._endpoint)


def _no_etag(endpoint: str) -> Exception:
    """A 2xx answer without an ETag: nothing confirms what S3 stored."""
    return ConnectionClosedError(endpoint_url=endpoint)


def _credentials(s3: S3Config, auth: Any) -> Any:
    """What botocore signs with (bucket/client.make_client): the config vars' keys, else the
    default chain's, renewed as they near their expiry, which CRT asks for each time it signs."""
    if s3.access_key is not None:
        return auth.AwsCredentialsProvider.new_static(
            s3.access_key, s3.secret_key, s3.session_token
        )
    chain = credentials.chain_session().get_credentials()

    def current() -> Any:
        frozen = chain.get_frozen_credentials()
        return auth.AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token)

    return auth.AwsCredentialsProvider.new_delegate(current)
