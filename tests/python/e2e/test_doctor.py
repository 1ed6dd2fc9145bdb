"""`python -m herokuify_buildpack doctor [--apply]`, run as a user would, against moto and the
store profiles: each check where it holds and where it fails, and --apply adding only its own."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from herokuify_buildpack.bucket.client import make_client
from herokuify_buildpack.bucket.publicread import PublicReadCheck
from herokuify_buildpack.config import S3Config
from herokuify_dev import certs
from herokuify_dev.containercreds import METHOD, serving_container_role
from herokuify_dev.dyno import run_one_off
from herokuify_dev.httpthread import serving
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
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert config_vars.get(name, "absent") not in done.stdout
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
    said = "       Credentials: config vars AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    assert said in out.splitlines()
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


def test_doctor_says_it_signs_with_a_session_token_or_a_container_role(
    config_vars, s3_server, tmp_path
):
    """Temporary keys, then no keys in a container whose role boto3's chain finds: doctor names
    the source in one line, every signed request carries its token, and no value of the role's
    is printed."""
    token = f"session-token-{uuid.uuid4().hex}"
    keyless = {
        name: value
        for name, value in config_vars.items()
        if name not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    with serving_container_role() as role, running_proxy(s3_server.endpoint_url) as proxy:
        tokens_sent = set()

        async def note(conn, request):
            if request.header("authorization"):
                tokens_sent.add(request.header("x-amz-security-token"))
            return await proxy.forward(conn, request)

        proxy.handler = note
        at_proxy = {"AWS_S3_ENDPOINT_URL": proxy.endpoint_url}
        _, with_token = doctor(config_vars | at_proxy | {"AWS_SESSION_TOKEN": token})
        assert tokens_sent == {token}
        tokens_sent.clear()
        # A HOME of its own: the chain looks in ~/.aws before it asks the container.
        _, with_role = doctor(keyless | at_proxy | role.env | {"HOME": str(tmp_path)})
        assert tokens_sent == {role.token}
    said = "       Credentials: config vars AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY with "
    assert f"{said}AWS_SESSION_TOKEN" in with_token.splitlines()
    assert f"       Credentials: boto3's default chain: {METHOD}" in with_role.splitlines()
    for out in (with_token, with_role):
        assert marks(out)["write and delete"] == "ok", out
    for value in (role.access_key, role.secret_key, role.token):
        assert value not in with_role


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


class _Refused(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def cdn_refused_by_its_bucket(folder: Path) -> Iterator[tuple[str, Path]]:
    """A CDN on loopback, over HTTPS as AWS_S3_CUSTOM_DOMAIN is, that answers 403 to every GET,
    as CloudFront does when the bucket's policy does not let it read the object. Yields its
    domain and the CA that a client must trust for it."""
    ca = certs.authority(folder)
    server_cert = certs.issue(ca, "localhost", folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refused)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_cert.cert, server_cert.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server, "refused-cdn"):
        yield f"localhost:{server.server_address[1]}", ca.cert


def test_a_bucket_private_behind_cloudfront_stays_private(
    config_vars, s3_client, bucket, tmp_path, monkeypatch
):
    """Origin Access Control: the bucket lets only CloudFront read it. When the CDN is refused,
    doctor's fix is the CloudFront statement, never a public one, and --apply adds none; the
    build's warning names both set-ups. Without a CloudFront statement, the public fix stays."""

    def cloudfront_reads(resource: str) -> None:
        statement = {
            "Sid": "cloudfront",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/{resource}",
            "Condition": {
                "StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::1:distribution/E1"}
            },
        }
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        s3_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    with cdn_refused_by_its_bucket(tmp_path) as (domain, ca):
        behind_cdn = config_vars | {"AWS_S3_CUSTOM_DOMAIN": domain, "SSL_CERT_FILE": str(ca)}
        cloudfront_reads("downloads/*")
        code, out = doctor(behind_cdn, "--apply")
        assert code == 1, out
        assert marks(out)["static files public through localhost"] == "FAIL"  # marks() ends at ":"
        assert f"add arn:aws:s3:::{bucket}/static/* to its Resource" in out
        assert "put-bucket-policy" not in out
        statements = json.loads(s3_client.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
        assert [statement["Sid"] for statement in statements] == ["cloudfront"]

        cloudfront_reads("*")
        code, out = doctor(behind_cdn)
        assert code == 1, out
        assert "check that the distribution's origin uses Origin Access Control" in out

        s3_client.delete_bucket_policy(Bucket=bucket)
        code, out = doctor(behind_cdn)
        assert code == 1, out
        assert "fix: aws s3api put-bucket-policy --endpoint-url" in out

        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        s3 = S3Config.from_env(behind_cdn)
        check = PublicReadCheck(s3, lambda: make_client(s3, concurrency=1))
        check.start("site.css")
        warning = check.problem() or ""
    assert f"https://{domain}/static/site.css answers 403" in warning
    assert "Origin Access Control" in warning and "put-bucket-policy" in warning


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
    # It says it takes ACLs and refuses them: the probes go without, as the build's files do.
    "r2-ownership-not-found": {"static files public": "FAIL", "lifecycle": "FAIL"},
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
