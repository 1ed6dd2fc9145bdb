"""The bucket settings that static and media files need, which `doctor` checks for and
`doctor --apply` adds: each as this buildpack's own rule or statement, named by RULE_ID, so
that adding one never touches the bucket's others."""

from __future__ import annotations

import fnmatch
import hashlib
from typing import Any

from herokuify_buildpack.config import S3Config

RULE_ID = "herokuify"  # the Sid, CORS rule ID and lifecycle rule ID of what --apply adds
FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".otf", ".eot")
ABORT_AFTER_DAYS = 7


def public_read_statement(bucket: str, static_prefix: str) -> dict[str, Any]:
    return {
        "Sid": statement_id(static_prefix),
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/{static_prefix}/*",
    }


def cloudfront_statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of a bucket policy that let CloudFront's service principal in: what
    Origin Access Control needs (CloudFront Developer Guide, "Restrict access to an Amazon S3
    origin"). A bucket that has one is meant to stay private behind its distribution."""
    statements = policy.get("Statement", [])
    return [
        statement
        for statement in ([statements] if isinstance(statements, dict) else statements)
        if statement.get("Effect") == "Allow"
        and isinstance(statement.get("Principal"), dict)
        and "cloudfront.amazonaws.com" in _listed(statement["Principal"].get("Service", []))
    ]


def reads_static(statement: dict[str, Any], bucket: str, static_prefix: str) -> bool:
    """Whether a policy statement allows s3:GetObject on static/*, wildcards and all."""
    key = f"arn:aws:s3:::{bucket}/{static_prefix}/x"
    actions, resources = statement.get("Action", []), statement.get("Resource", [])
    return any(fnmatch.fnmatchcase("s3:GetObject", action) for action in _listed(actions)) and any(
        fnmatch.fnmatchcase(key, resource) for resource in _listed(resources)
    )


def _listed(value: str | list[str]) -> list[str]:
    """A policy element holds one string or a list of them."""
    return [value] if isinstance(value, str) else list(value)


def statement_id(static_prefix: str) -> str:
    """Each app's own statement in a bucket that several share (HEROKUIFY_PREFIX), so that
    one app's --apply never replaces another's. A Sid takes letters and digits only, so the
    prefix's readable part (my-app and myapp read alike) is followed by a digest of it."""
    folders = static_prefix.split("/")[:-1]
    if not folders:
        return RULE_ID
    readable = "".join(char for char in "".join(map(str.capitalize, folders)) if char.isalnum())
    digest = hashlib.sha256("/".join(folders).encode()).hexdigest()[:8]
    return f"{RULE_ID}{readable}{digest}"


def aws_cli(s3: S3Config, command: str) -> str:
    """The aws CLI line that runs the s3api ``command`` on this bucket. Where
    AWS_S3_ENDPOINT_URL names a store, the line carries it and the region, so that a pasted
    fix reaches that store and not AWS."""
    store = f" --endpoint-url {s3.endpoint_url} --region {s3.region}" if s3.endpoint_url else ""
    return f"aws s3api {command}{store} --bucket {s3.bucket}"


def cors_rule() -> dict[str, Any]:
    """Fonts loaded by @font-face from another origin need Access-Control-Allow-Origin."""
    return {
        "ID": RULE_ID,
        "AllowedMethods": ["GET", "HEAD"],
        "AllowedOrigins": ["*"],
        "AllowedHeaders": ["*"],
        "MaxAgeSeconds": 86400,
    }


def lifecycle_rule() -> dict[str, Any]:
    """Parts of a multipart upload whose start was answered but lost stay, billed, until
    aborted: see docs/failure-modes.md."""
    return {
        "ID": RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_AFTER_DAYS},
    }


def cors_allows_fonts(rules: list[dict[str, Any]]) -> bool:
    return any(
        "GET" in rule.get("AllowedMethods", []) and rule.get("AllowedOrigins") for rule in rules
    )


def aborts_incomplete_uploads(rules: list[dict[str, Any]]) -> bool:
    return any(
        rule.get("Status") == "Enabled" and "AbortIncompleteMultipartUpload" in rule
        for rule in rules
    )
