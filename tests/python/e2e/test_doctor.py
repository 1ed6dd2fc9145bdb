"""`python -m herokuify_buildpack doctor [--apply]`, run as a user would, against moto and the
store profiles: each check where it holds and where it fails, and --apply adding only its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from herokuify_dev.dyno import run_one_off
from herokuify_dev.proxy import running_proxy
from herokuify_dev.stores import StoreProfile

REPO = Path(__file__).resolve().parents[3]


def doctor(config_vars: dict[str, str], *args: str) -> tuple[int, str]:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), **config_vars}
    done = subprocess.run(
        [sys.executable, "-m", "herokuify_buildpack", "doctor", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stderr == "", done.stderr
    assert config_vars["AWS_SECRET_ACCESS_KEY"] not in done.stdout
    return done.returncode, done.stdout


def marks(out: str) -> dict[str, str]:
    """Each check's mark, from the last report in the output."""
    found = {}
    for line in out.splitlines():
        text = line.strip()
        if text.startswith(("ok ", "FAIL ")):
            mark, rest = text.split(" ", 1)
            found[rest.strip().split(":", 1)[0]] = mark
    return found


def keys(s3_client, bucket: str) -> set[str]:
    listed = s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"] for item in listed}


def test_doctor_on_a_bucket_that_takes_acls(config_vars, s3_client, bucket):
    s3_client.put_object(
        Bucket=bucket, Key="static/fonts/icons.woff2", Body=b"wOF2", ACL="public-read"
    )
    theirs = {
        "ID": "theirs",
        "AllowedMethods": ["PUT"],
        "AllowedOrigins": ["https://admin.example"],
    }
    s3_client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [theirs]})

    code, out = doctor(config_vars)
    assert code == 1, out
    assert marks(out) == {
        "credentials and bucket": "ok",
        "ACL mode": "ok",
        "static files public": "ok",
        "media private": "ok",
        "write and delete": "ok",
        "CORS": "FAIL",
        "lifecycle": "FAIL",
    }
    # With AWS_S3_ENDPOINT_URL set, each fix names the store, or pasted it would go to AWS.
    at_store = f"--endpoint-url {config_vars['AWS_S3_ENDPOINT_URL']} --region us-east-1"
    assert f"fix: aws s3api put-bucket-cors {at_store} --bucket {bucket}" in out
    assert f"fix: aws s3api put-bucket-lifecycle-configuration {at_store} --bucket {bucket}" in out
    assert keys(s3_client, bucket) == {"static/fonts/icons.woff2"}  # no probe left behind

    code, out = doctor(config_vars, "--apply")
    assert code == 0, out
    assert "added a CORS rule" in out and "added a lifecycle rule" in out
    assert "bucket policy" not in out  # static files were already public: nothing else added
    assert set(marks(out).values()) == {"ok"}
    cors = s3_client.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert [rule.get("ID") for rule in cors] == ["theirs", "herokuify"]
    code, again = doctor(config_vars, "--apply")
    assert code == 0 and "added" not in again
    assert len(s3_client.get_bucket_cors(Bucket=bucket)["CORSRules"]) == 2


def test_doctor_on_a_new_aws_bucket_adds_the_public_read_policy(
    config_vars, s3_server, s3_client, bucket
):
    s3_client.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    other = {
        "Sid": "theirs",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/downloads/*",
    }
    policy = {"Version": "2012-10-17", "Statement": [other]}
    s3_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    with running_proxy(s3_server.endpoint_url) as proxy:
        store = StoreProfile.named("aws-acls-disabled", proxy)
        proxied = config_vars | {"AWS_S3_ENDPOINT_URL": proxy.endpoint_url}
        code, out = doctor(proxied)
        assert code == 1, out
        assert marks(out)["static files public"] == "FAIL"
        assert "ACL mode: no object ACLs" in out
        at_store = f"--endpoint-url {proxy.endpoint_url} --region us-east-1"
        assert f"fix: aws s3api put-bucket-policy {at_store} --bucket {bucket} --policy" in out

        code, out = doctor(proxied, "--apply")
    assert code == 0, out
    assert "added a bucket policy statement" in out
    statements = json.loads(s3_client.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert [statement["Sid"] for statement in statements] == ["theirs", "herokuify"]
    assert marks(out)["media private"] == "ok"
    assert store.refused == []  # no ACL was sent


def test_doctor_names_a_missing_bucket_and_stops(config_vars):
    code, out = doctor(config_vars | {"AWS_STORAGE_BUCKET_NAME": "no-such-bucket-here"})
    assert code == 1
    assert marks(out) == {"credentials and bucket": "FAIL"}
    assert "bucket no-such-bucket-here does not exist" in out


def test_doctor_flags_public_media(config_vars, s3_client, bucket):
    statement = {
        "Sid": "oops",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    s3_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    code, out = doctor(config_vars)
    assert code == 1
    assert marks(out)["media private"] == "FAIL"
    assert "anonymous readers can read media/" in out


# Each profile's expected marks, with the README's settings for it and a fresh bucket: no
# lifecycle rule anywhere; on R2, no ACLs and public access only through its own domain.
PROFILE_MARKS = {
    "b2": {"static files public": "ok", "lifecycle": "FAIL"},
    "gcs": {"static files public": "ok", "lifecycle": "FAIL"},
    "minio-2024": {"static files public": "ok", "lifecycle": "FAIL"},
    "r2": {"static files public": "FAIL", "lifecycle": "FAIL"},
}


@pytest.mark.parametrize("store", sorted(PROFILE_MARKS))
def test_doctor_against_each_store_profile(config_vars, s3_server, bucket, store):
    settings = {"r2": {"AWS_S3_REGION_NAME": "auto"}}.get(store, {})
    with running_proxy(s3_server.endpoint_url) as proxy:
        StoreProfile.named(store, proxy)
        code, out = doctor(config_vars | settings | {"AWS_S3_ENDPOINT_URL": proxy.endpoint_url})
    assert code == 1, out
    found = marks(out)
    for check in ("credentials and bucket", "media private", "write and delete", "CORS"):
        assert found[check] == "ok", out
    for check, mark in PROFILE_MARKS[store].items():
        assert found[check] == mark, out


def test_doctor_runs_from_the_slug_as_on_a_dyno(build, config_vars):
    """`heroku run python -m herokuify_buildpack doctor`: the slug's own Python, with the
    package the build installed and the app's boto3, and the config vars in its environment."""
    built = build("minimal", config_vars)
    assert built.ok, built.output
    done = run_one_off(built.build_dir, config_vars, "python -m herokuify_buildpack doctor")
    assert "ok   credentials and bucket" in done.stdout, done.stdout + done.stderr
    assert "ok   static files public" in done.stdout
    assert config_vars["AWS_SECRET_ACCESS_KEY"] not in done.stdout + done.stderr
