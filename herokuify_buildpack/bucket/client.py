"""The build's S3 client, the bucket check, and which catalogued error each way S3 says no is."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.utils import parse_timestamp

from herokuify_buildpack import errors
from herokuify_buildpack.bucket import credentials
from herokuify_buildpack.bucket.facts import BucketFacts
from herokuify_buildpack.bucket.rules import cors_allows_fonts
from herokuify_buildpack.config import S3Config
from herokuify_buildpack.errors import HerokuifyError

# botocore's "legacy" retry mode backs off exponentially with jitter on throttling, 5xx and
# dropped connections, per request. The "standard" and "adaptive" modes add a client-wide retry
# quota (about 35 retries) meant to stop retry storms in long-running services: in a build's
# one burst of uploads it runs out and turns a brief S3 hiccup into a failed deploy. The
# attempt budget and timeouts are tuned for a build, where waiting minutes helps nobody.
ATTEMPTS = 6  # per request, the first included; the CRT upload path keeps the same budget
_RETRIES = {"mode": "legacy", "total_max_attempts": ATTEMPTS}
PUBLIC_READ = "public-read"
_AWS_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")  # us-east-1, us-gov-west-1, B2's us-west-004
# How stores refuse an object ACL: AWS on a bucket whose Object Ownership is "Bucket owner
# enforced" (the S3 user guide, "Controlling ownership of objects and disabling ACLs"), and
# Cloudflare R2, which implements none (its S3 API compatibility page).
_ACL_REFUSALS = frozenset({"AccessControlListNotSupported", "NotImplemented"})


def make_client(s3: S3Config, concurrency: int, read_timeout: int = 30) -> Any:
    """Signs with the config vars' keys, else with what boto3's default chain found (raises
    the catalogued error if it found none)."""
    keys_given = s3.access_key is not None
    session = botocore.session.get_session() if keys_given else credentials.chain_session()
    parsers = session.get_component("response_parser_factory")
    parsers.set_parser_defaults(timestamp_parser=parse_iso_timestamp)
    # botocore's own client: boto3's adds methods the build does not use, and takes longer to
    # make. s3transfer takes either.
    client = session.create_client(
        "s3",
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
        aws_session_token=s3.session_token,
        region_name=s3.region,
        endpoint_url=s3.endpoint_url,
        config=Config(
            retries=_RETRIES,  # type: ignore[arg-type]
            connect_timeout=5,
            read_timeout=read_timeout,
            max_pool_connections=concurrency + 4,
            **checksum_options(s3.checksum_mode),
        ),
    )
    client.meta.events.register("before-sign.s3.DeleteObjects", _content_md5_instead)
    return client


def checksum_options(mode: str) -> dict[str, str]:
    """botocore Config options for ``mode``. botocore before 1.36 has neither option, and sends
    no checksum by default: nothing to turn off."""
    if "request_checksum_calculation" not in Config.OPTION_DEFAULTS:
        return {}
    return {"request_checksum_calculation": mode, "response_checksum_validation": mode}


def _content_md5_instead(request: Any, **_: Any) -> None:
    """DeleteObjects must carry a checksum of its body. botocore sends CRC32 headers, which
    older MinIO answers with MissingContentMD5 and B2 with InvalidArgument; every store,
    AWS included, takes Content-MD5."""
    for name in list(request.headers.keys()):
        if name.lower().startswith(("x-amz-checksum-", "x-amz-sdk-checksum-")):
            del request.headers[name]
    body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
    digest = hashlib.md5(body, usedforsecurity=False).digest()
    request.headers["Content-MD5"] = base64.b64encode(digest).decode()


def parse_iso_timestamp(value: str) -> datetime:
    """botocore reads each timestamp with dateutil, a large part of parsing a listing page.
    S3 lists LastModified in ISO 8601, which the standard library reads directly (with the
    trailing Z from Python 3.11 on); anything else goes to botocore's own parser."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        parsed = parse_timestamp(value)
    return parsed


def check_bucket(client: Any, s3: S3Config) -> BucketFacts:
    """Fail fast, before any Django work, on a missing bucket, a dead endpoint or a wrong region;
    and find out whether the bucket takes ACLs (unless HEROKUIFY_STATIC_ACL says) and lets other
    origins load its fonts. The questions go out at once: one round trip in all.

    GetBucketLocation is the one call that answers the same from every region.
    """
    with ThreadPoolExecutor(4, thread_name_prefix="herokuify-check") as pool:
        location = pool.submit(_location, client, s3)
        asked_acl = s3.static_acl is None
        ownership = pool.submit(_ownership, client, s3) if asked_acl else None
        blocked = pool.submit(_public_acls_blocked, client, s3) if asked_acl else None
        fonts = pool.submit(_fonts_allowed, client, s3)
        # S3 answers None for us-east-1 and "EU" for the oldest eu-west-1 buckets. Other stores
        # answer names of their own, such as R2's "auto" or GCS's "US": only a name shaped like
        # an AWS region can be wrong.
        answer = location.result()
        region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(answer, answer)
        if _AWS_REGION.fullmatch(region) and region != s3.region:
            raise errors.WRONG_REGION(bucket=s3.bucket, actual=region, configured=s3.region)
        if ownership is None or blocked is None:
            acl = s3.static_acl or None
        else:
            try:
                owned = ownership.result()
                acl = _probed_acl(client, s3) if owned is None else owned or None
                acl = None if blocked.result() else acl
            except (ClientError, BotoCoreError) as exc:
                raise explain(exc, s3, "checking whether the bucket takes ACLs") from exc
        return BucketFacts(static_acl=acl, fonts_allowed=fonts.result())


def _location(client: Any, s3: S3Config) -> str | None:
    try:
        answer: dict[str, str | None] = client.get_bucket_location(Bucket=s3.bucket)
    except ClientError as exc:
        # Keys may lack s3:GetBucketLocation, and some stores lack the call.
        if _code(exc) not in ("AccessDenied", "NotImplemented"):
            raise explain(exc, s3, "checking the bucket") from exc
        return s3.region
    except BotoCoreError as exc:
        raise explain(exc, s3, "checking the bucket") from exc
    return answer.get("LocationConstraint")


def _fonts_allowed(client: Any, s3: S3Config) -> bool:
    """Whether a CORS rule lets pages on other origins GET static files, such as web fonts."""
    try:
        cors = client.get_bucket_cors(Bucket=s3.bucket).get("CORSRules", [])
    except ClientError as exc:
        return _code(exc) != "NoSuchCORSConfiguration"  # other refusals: the store can't say
    except BotoCoreError:
        return True
    return cors_allows_fonts(cors)


def _ownership(client: Any, s3: S3Config) -> str | None:
    """What Object Ownership says: public-read where objects may carry ACLs, "" where they may
    not (buckets made on AWS since April 2023: "Bucket owner enforced"), None where the store
    has no such call or the keys may not make it."""
    try:
        answer = client.get_bucket_ownership_controls(Bucket=s3.bucket)
    except ClientError as exc:
        # A bucket from before ownership controls takes ACLs; a store may say so and refuse
        # them, which the upload finds out (aclrefusal.py).
        return PUBLIC_READ if _code(exc) == "OwnershipControlsNotFoundError" else None
    rules = answer.get("OwnershipControls", {}).get("Rules", [])
    enforced = any(rule.get("ObjectOwnership") == "BucketOwnerEnforced" for rule in rules)
    return "" if enforced else PUBLIC_READ


def _public_acls_blocked(client: Any, s3: S3Config) -> bool:
    """Block Public Access's BlockPublicAcls refuses every upload that carries public-read (the
    S3 user guide, "Blocking public access to your Amazon S3 storage")."""
    try:
        answer = client.get_public_access_block(Bucket=s3.bucket)
    except ClientError:
        return False  # none set, or the keys may not read it: the upload will say
    return bool(answer.get("PublicAccessBlockConfiguration", {}).get("BlockPublicAcls"))


def refuses_acl(answer: Mapping[str, Any]) -> bool:
    """Whether S3's answer to a write that carried an ACL (a ClientError's ``response``, or the
    parsed answer botocore's events pass on) is the store refusing that ACL."""
    return answer.get("Error", {}).get("Code") in _ACL_REFUSALS


def _probed_acl(client: Any, s3: S3Config) -> str | None:
    """One empty object with the ACL, written and deleted, says whether the store takes it."""
    key = f"{s3.static_prefix}/.herokuify/acl-probe"
    try:
        client.put_object(Bucket=s3.bucket, Key=key, Body=b"", ACL=PUBLIC_READ)
    except ClientError as exc:
        if refuses_acl(exc.response):
            return None
        if _code(exc) == "AccessDenied":
            return PUBLIC_READ  # keys that may not write: the listing or the upload says so
        raise
    client.delete_object(Bucket=s3.bucket, Key=key)
    return PUBLIC_READ


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def explain(exc: Exception, s3: S3Config, doing: str) -> HerokuifyError:
    """The catalogued error for a botocore failure; anything else is re-raised, as a bug."""
    if isinstance(exc, HerokuifyError):  # already says what is wrong
        return exc
    bucket = s3.bucket
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        if code == "NoSuchBucket":
            return errors.NO_SUCH_BUCKET(bucket=bucket, at=_at(s3))
        if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "301") or status == 301:
            actual = headers.get("x-amz-bucket-region") or error.get("Region") or "another region"
            return errors.WRONG_REGION(bucket=bucket, actual=actual, configured=s3.region)
        if code == "AccessControlListNotSupported":
            return errors.ACLS_DISABLED(bucket=bucket)
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403") or (
            status == 403
        ):
            return errors.ACCESS_DENIED(bucket=bucket, doing=doing, code=code)
        if isinstance(status, int) and status >= 500:
            # botocore gives a cut-short answer status 500 and, lacking a code, the status.
            answer = f"{status} {code}" if code and code != str(status) else f"{status}"
            return errors.STORE_FAILING(answer=answer, doing=doing, bucket=bucket)
        return errors.STORE_REFUSED(doing=doing, bucket=bucket, status=status, code=code)
    if isinstance(exc, NoCredentialsError):
        return errors.NO_CREDENTIALS()
    if isinstance(exc, ConnectionError):
        return errors.STORE_UNREACHABLE(
            at=_at(s3), bucket=bucket, doing=doing, failure=type(exc).__name__
        )
    if isinstance(exc, ReadTimeoutError):
        return errors.STORE_SILENT(doing=doing, bucket=bucket)
    if isinstance(exc, HTTPClientError):
        return errors.CONNECTION_DROPPED(
            at=_at(s3), doing=doing, bucket=bucket, failure=type(exc).__name__
        )
    if isinstance(exc, BotoCoreError):
        return errors.STORE_FAILED(doing=doing, bucket=bucket, failure=type(exc).__name__)
    raise exc


def _at(s3: S3Config) -> str:
    return f" at {s3.endpoint_url}" if s3.endpoint_url else ""
