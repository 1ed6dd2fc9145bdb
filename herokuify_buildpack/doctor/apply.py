"""`doctor --apply`: adds the policy statement, CORS rule or lifecycle rule that a failed check
needs, each named by rules.RULE_ID and merged with what the bucket already has."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from herokuify_buildpack.bucket import rules
from herokuify_buildpack.config import S3Config


def _add_policy(client: Any, s3: S3Config) -> None:
    bucket, sid = s3.bucket, rules.statement_id(s3.static_prefix)
    try:
        policy = json.loads(client.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucketPolicy":
            raise
        policy = {"Version": "2012-10-17", "Statement": []}
    statements = policy.get("Statement", [])
    # A policy may hold one statement as an object rather than a list.
    statements = [statements] if isinstance(statements, dict) else statements
    policy["Statement"] = _others(statements, "Sid", sid)
    policy["Statement"].append(rules.public_read_statement(bucket, s3.static_prefix))
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def _add_cors(client: Any, s3: S3Config) -> None:
    bucket = s3.bucket
    try:
        cors = client.get_bucket_cors(Bucket=bucket).get("CORSRules", [])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchCORSConfiguration":
            raise
        cors = []
    configuration = {"CORSRules": [*_others(cors, "ID"), rules.cors_rule()]}
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration=configuration)


def _add_lifecycle(client: Any, s3: S3Config) -> None:
    bucket = s3.bucket
    extra: dict[str, Any] = {}
    try:
        answer = client.get_bucket_lifecycle_configuration(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchLifecycleConfiguration":
            raise
        answer = {}
    existing = answer.get("Rules", [])
    # The bucket's own setting for small objects' transitions stays as it is.
    if "TransitionDefaultMinimumObjectSize" in answer:
        extra["TransitionDefaultMinimumObjectSize"] = answer["TransitionDefaultMinimumObjectSize"]
    configuration = {"Rules": [*_others(existing, "ID"), rules.lifecycle_rule()]}
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration=configuration, **extra
    )


def _others(
    entries: list[dict[str, Any]], id_field: str, own_id: str = rules.RULE_ID
) -> list[dict[str, Any]]:
    """The bucket's own entries: an earlier --apply's is replaced, never doubled."""
    return [entry for entry in entries if entry.get(id_field) != own_id]


FIXES: dict[str, tuple[str, Callable[[Any, S3Config], None]]] = {
    "policy": ("a bucket policy statement that lets anyone read static/*", _add_policy),
    "cors": ("a CORS rule that lets pages on any origin GET static files", _add_cors),
    "lifecycle": (
        f"a lifecycle rule that aborts multipart uploads after {rules.ABORT_AFTER_DAYS} days",
        _add_lifecycle,
    ),
}


def apply_fixes(client: Any, s3: S3Config, needed: set[str]) -> list[tuple[str, str | None]]:
    """Each fix tried, in order: what it adds, and why it could not, or None."""
    done = []
    for kind in sorted(needed):
        what, add = FIXES[kind]
        try:
            add(client, s3)
        except (ClientError, BotoCoreError) as exc:
            code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else ""
            done.append((what, code or type(exc).__name__))
        else:
            done.append((what, None))
    return done
