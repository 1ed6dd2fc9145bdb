"""What `doctor` checks, each giving one Finding: whether it holds, and if not the exact fix.

The checks write two small probe objects, one under static/ and one under media/, both under
``.herokuify-doctor/`` with a name of their own, and delete them before they end.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from herokuify_buildpack.assets.slugrecord import SlugRecord
from herokuify_buildpack.bucket import aclrefusal, rules
from herokuify_buildpack.bucket.client import check_bucket, explain, make_client, refuses_acl
from herokuify_buildpack.bucket.listing import list_prefix
from herokuify_buildpack.bucket.publicread import READABLE, anonymous_status, public_read_policy
from herokuify_buildpack.config import S3Config, public_host
from herokuify_buildpack.errors import HerokuifyError
from herokuify_buildpack.releasephase import RELEASE_COMMAND
from herokuify_buildpack.upload.localfiles import scan

PROBE_DIR = ".herokuify-doctor"
_TIMEOUT = 10


@dataclass(frozen=True)
class Finding:
    check: str
    holds: bool
    detail: str
    fix: str = ""  # a command or document to paste, when it does not hold
    applicable: str = ""  # what `doctor --apply` adds for it: "policy", "cors" or "lifecycle"


def run_checks(s3: S3Config, slug: Path | None = None) -> Iterator[Finding]:
    """Every check in order; after a failed bucket check, nothing else can be asked.
    ``slug``: the root of the slug doctor runs in, if it runs in one."""
    client = make_client(s3, concurrency=2, read_timeout=_TIMEOUT)
    try:
        facts = check_bucket(client, s3)
        client.list_objects_v2(Bucket=s3.bucket, Prefix=f"{s3.static_prefix}/", MaxKeys=1)
    except HerokuifyError as exc:
        yield Finding("credentials and bucket", False, str(exc))
        return
    except (ClientError, BotoCoreError) as exc:
        yield Finding("credentials and bucket", False, str(explain(exc, s3, "listing")))
        return
    yield Finding("credentials and bucket", True, f"{s3.bucket} answers, in {s3.region}")
    static_acl = facts.static_acl
    if static_acl and s3.static_acl is None and _acl_refusal_noted(client, s3):
        static_acl = None
        mode = "no object ACLs: an upload found that the store refuses them"
    else:
        mode = f"static objects get {static_acl}" if static_acl else "no object ACLs"
    yield Finding("ACL mode", True, mode)
    yield from _probes(client, s3, static_acl)
    yield _cors(client, s3)
    yield _lifecycle(client, s3)
    if slug is not None:
        try:
            yield _release(client, s3, slug)
        except HerokuifyError as exc:
            yield Finding("release", False, str(exc))
        except (ClientError, BotoCoreError) as exc:
            yield Finding("release", False, str(explain(exc, s3, "listing the slug's files")))


def _release(client: Any, s3: S3Config, slug: Path) -> Finding:
    """What the slug's pages link: every file its build collected, under this app's prefix."""
    record = SlugRecord.read(slug)
    if not record.static_root:
        return Finding("release", True, "no static files in this slug")
    source = record.source(slug)
    wanted = {
        file.key
        for file in scan(
            source.root, s3.static_prefix, immutable=source.immutable,
            local_only=source.local_only, max_age=0, acl=None, etag_of=lambda path, size: "",
        )
    }  # fmt: skip
    held = list_prefix(client, s3.bucket, s3.static_prefix)
    missing = sorted(wanted - held.keys())
    if not missing:
        return Finding("release", True, f"all {len(wanted)} files of this slug are in the bucket")
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return Finding(
        "release",
        False,
        f"{len(missing)} of this slug's {len(wanted)} files are not in the bucket: {shown}",
        f"Run the release phase: {RELEASE_COMMAND}",
    )


def _acl_refusal_noted(client: Any, s3: S3Config) -> bool:
    """Whether a build found that this store refuses the ACLs it says it takes (aclrefusal)."""
    try:
        client.head_object(Bucket=s3.bucket, Key=aclrefusal.note_key(s3.static_prefix))
    except (ClientError, BotoCoreError):
        return False
    return True


def _probes(client: Any, s3: S3Config, static_acl: str | None) -> Iterator[Finding]:
    name = f"{PROBE_DIR}/{uuid.uuid4().hex}.txt"
    static_key, media_key = f"{s3.static_prefix}/{name}", f"{s3.media_prefix}/{name}"
    try:
        try:
            extra = {"ACL": static_acl} if static_acl else {}
            client.put_object(Bucket=s3.bucket, Key=static_key, Body=b"doctor\n", **extra)
        except ClientError as exc:
            # A store that says it takes ACLs and refuses them: the build goes on without.
            if not (static_acl and s3.static_acl is None and refuses_acl(exc.response)):
                raise
            client.put_object(Bucket=s3.bucket, Key=static_key, Body=b"doctor\n")
        client.put_object(Bucket=s3.bucket, Key=media_key, Body=b"doctor\n")
    except (ClientError, BotoCoreError) as exc:
        _delete(client, s3, static_key, media_key)
        yield Finding("write and delete", False, str(explain(exc, s3, "writing a probe object")))
        return
    try:
        yield _static_public(client, s3, name)
        yield _media_private(client, s3, media_key)
    finally:
        deleted = _delete(client, s3, static_key, media_key)
    detail = f"probe objects under {PROBE_DIR}/ written and deleted"
    yield Finding(
        "write and delete", deleted, detail if deleted else "a probe could not be deleted"
    )


def _static_public(client: Any, s3: S3Config, name: str) -> Finding:
    url = s3.public_url(s3.static_prefix) + urllib.parse.quote(name)
    check = "static files public" + (f" through {s3.custom_domain}" if s3.custom_domain else "")
    status = anonymous_status(url)
    if status in READABLE:
        return Finding(check, True, f"anonymous readers get {url}")
    detail = f"anonymous readers get {status} from {url}"
    if s3.custom_domain and status not in (401, 403):
        return Finding(check, False, detail, "Check the CDN or DNS behind AWS_S3_CUSTOM_DOMAIN.")
    public_fix = (
        f"{rules.aws_cli(s3, 'put-bucket-policy')} "
        f"--policy '{public_read_policy(s3.bucket, s3.static_prefix)}'"
    )
    if not s3.custom_domain:
        return Finding(check, False, detail, public_fix, "policy")
    # Behind a CDN the bucket may be private on purpose (Origin Access Control): a public
    # statement would undo that, so --apply adds one only where the policy shows no CloudFront.
    policy = _bucket_policy(client, s3)
    if policy is None:
        fix = (
            "If CloudFront reads a private bucket (Origin Access Control), let it read static/* "
            f"(docs/aws.md#cloudfront); if the bucket is public: {public_fix}"
        )
        return Finding(check, False, detail + " (the keys may not read the bucket policy)", fix)
    cloudfront = rules.cloudfront_statements(policy)
    if cloudfront:
        if any(
            rules.reads_static(statement, s3.bucket, s3.static_prefix) for statement in cloudfront
        ):
            fix = (
                "The bucket policy lets CloudFront read static/*: check that the distribution's "
                "origin uses Origin Access Control, and that the statement's AWS:SourceArn names "
                "that distribution (docs/aws.md#cloudfront)."
            )
        else:
            fix = (
                f"Let the bucket policy's CloudFront statement read {s3.static_prefix}/*: add "
                f"arn:aws:s3:::{s3.bucket}/{s3.static_prefix}/* to its Resource "
                "(docs/aws.md#cloudfront)."
            )
        return Finding(check, False, detail, fix)
    return Finding(check, False, detail, public_fix, "policy")


def _bucket_policy(client: Any, s3: S3Config) -> dict[str, Any] | None:
    """The bucket's policy ({} where it has none), or None where the keys may not read it."""
    try:
        return dict(json.loads(client.get_bucket_policy(Bucket=s3.bucket)["Policy"]))
    except ClientError as exc:
        return {} if exc.response.get("Error", {}).get("Code") == "NoSuchBucketPolicy" else None
    except (BotoCoreError, ValueError):
        return None


def _media_private(client: Any, s3: S3Config, key: str) -> Finding:
    scheme, host = public_host(s3.bucket, s3.region, s3.endpoint_url, None)
    anonymous = anonymous_status(f"{scheme}://{host}/{urllib.parse.quote(key)}")
    signed_url = client.generate_presigned_url(
        "get_object", Params={"Bucket": s3.bucket, "Key": key}, ExpiresIn=300
    )
    signed = anonymous_status(signed_url)
    if anonymous in (401, 403) and signed in READABLE:
        return Finding("media private", True, "anonymous readers are refused; signed URLs work")
    if signed not in READABLE:
        return Finding("media private", False, f"a signed URL gets {signed}")
    return Finding(
        "media private",
        False,
        f"anonymous readers can read media/ (HTTP {anonymous})",
        "Remove the bucket policy statement or ACL that makes media/ public.",
    )


def _delete(client: Any, s3: S3Config, *keys: str) -> bool:
    try:
        for key in keys:
            client.delete_object(Bucket=s3.bucket, Key=key)
    except (ClientError, BotoCoreError):
        return False
    return True


def _cors(client: Any, s3: S3Config) -> Finding:
    fonts = _has_fonts(client, s3)
    try:
        cors = client.get_bucket_cors(Bucket=s3.bucket).get("CORSRules", [])
    except ClientError:
        cors = []
    fix = (
        f"{rules.aws_cli(s3, 'put-bucket-cors')} --cors-configuration "
        f"'{json.dumps({'CORSRules': [rules.cors_rule()]})}'"
    )
    if rules.cors_allows_fonts(cors):
        return Finding("CORS", True, "a rule lets pages on other origins load fonts")
    if not fonts:
        return Finding("CORS", True, "no rule, and no web fonts under static/ that need one")
    return Finding(
        "CORS",
        False,
        "web fonts under static/, and no rule lets other origins load them",
        fix,
        "cors",
    )


def _lifecycle(client: Any, s3: S3Config) -> Finding:
    try:
        answer = client.get_bucket_lifecycle_configuration(Bucket=s3.bucket)
        lifecycle = answer.get("Rules", [])
    except ClientError:
        lifecycle = []
    if rules.aborts_incomplete_uploads(lifecycle):
        return Finding("lifecycle", True, "incomplete multipart uploads are aborted")
    fix = (
        f"{rules.aws_cli(s3, 'put-bucket-lifecycle-configuration')} "
        f"--lifecycle-configuration '{json.dumps({'Rules': [rules.lifecycle_rule()]})}'"
    )
    detail = "no rule aborts incomplete multipart uploads: their parts stay, billed"
    return Finding("lifecycle", False, detail, fix, "lifecycle")


def _has_fonts(client: Any, s3: S3Config) -> bool:
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=s3.bucket, Prefix=f"{s3.static_prefix}/"
    )
    return any(
        item["Key"].endswith(rules.FONT_SUFFIXES)
        for page in pages
        for item in page.get("Contents", [])
    )
