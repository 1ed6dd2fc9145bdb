"""The stores users really have, as the proxy's store profiles make moto refuse like them
(herokuify_dev/stores.py): a new AWS bucket with ACLs disabled, B2, R2, GCS's XML API and MinIO
before 2025.

Each builds the compressor app twice through bin/*, with the config vars the README's stores
table gives for that store, hashed names and pruning: between the builds the first release is
made to look two hours old, so the second build's prune deletes it through DeleteObjects. Both
builds land, the store refuses nothing but the bucket check's questions about ACLs, and every
object of the second release is in the bucket, byte for byte.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from herokuify_buildpack.bucket import pruning, releases, rules
from herokuify_buildpack.bucket.publicread import public_read_policy
from herokuify_dev.aging import Aging
from herokuify_dev.dyno import asset_urls, running_dyno
from herokuify_dev.localbuild import not_pushed
from herokuify_dev.proxy import Request, Response, running_proxy
from herokuify_dev.stores import StoreProfile

FIXTURE = Path(__file__).resolve().parents[3] / "test-fixtures" / "compressor"
LOCAL_ONLY = {"staticfiles.json", "CACHE/manifest.json"}
# What the README's stores table says to set for each store, beyond the keys, the bucket and
# AWS_S3_ENDPOINT_URL (which the tests point at the profile's proxy). The AWS row sets no
# endpoint on AWS itself; here the checksums are what botocore sends to AWS.
README_SETTINGS = {
    "aws-acls-disabled": {"HEROKUIFY_S3_CHECKSUMS": "when_supported"},
    "b2": {},
    "r2": {"AWS_S3_REGION_NAME": "auto"},
    "gcs": {},
    "minio-2024": {},
}
PUBLIC = "http://acs.amazonaws.com/groups/global/AllUsers"


def release_files(static_root: Path) -> dict[str, Path]:
    hashed = json.loads((static_root / "staticfiles.json").read_text())["paths"].values()
    names = set(hashed) | {
        path.relative_to(static_root).as_posix() for path in (static_root / "CACHE").rglob("*.*")
    }
    return {f"static/{name}": static_root / name for name in names - LOCAL_ONLY}


@pytest.mark.parametrize("store", sorted(README_SETTINGS))
def test_a_store_builds_prunes_and_holds_every_byte(
    build, config_vars, s3_server, s3_client, bucket, tmp_path, store, upload_client
):
    if store == "aws-acls-disabled":
        s3_client.put_bucket_ownership_controls(
            Bucket=bucket,
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        )
    app = tmp_path / "app"
    shutil.copytree(FIXTURE, app, ignore=not_pushed)
    with running_proxy(s3_server.endpoint_url) as proxy:
        profile = StoreProfile.named(store, proxy)
        aging = Aging()
        proxy.rewrite_listing = aging.rewrite
        settings = (
            config_vars
            | README_SETTINGS[store]
            | upload_client
            | {
                "AWS_S3_ENDPOINT_URL": proxy.endpoint_url,
                "HEROKUIFY_HASHED_NAMES": "1",
                "HEROKUIFY_PRUNE": "1",
                "HEROKUIFY_KEEP_RELEASES": "1",
            }
        )
        first = build(app, settings)
        assert first.ok, first.output
        aging.age_existing(by=timedelta(hours=2))
        base_css = app / "shop_site" / "static" / "shop" / "base.css"
        base_css.write_text(base_css.read_text() + "\n.second { color: blue; }\n")
        second = build(app, settings, cache_dir=first.cache_dir)
        assert second.ok, second.output

    # The bucket check's questions, which a store may refuse: its answer is the refusal.
    asked = {("GetBucketOwnershipControls", ""), ("PutObject", "static/.herokuify/acl-probe")}
    refused = [(target.operation, target.key) for target, _ in profile.refused]
    assert set(refused) <= asked and len(refused) <= 2 * len(asked), profile.refused
    assert "DeleteObjects" in {target.operation for target in profile.seen}
    files = release_files(second.build_dir / "staticfiles")
    held = {
        item["Key"]
        for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    }
    old = set(release_files(first.build_dir / "staticfiles")) - set(files)
    assert old and not old & held  # the first release's own objects were pruned
    for key, path in files.items():
        assert s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() == path.read_bytes()
    grants = s3_client.get_object_acl(Bucket=bucket, Key=next(iter(files)))["Grants"]
    public = any(grant["Grantee"].get("URI") == PUBLIC for grant in grants)
    assert public == (store not in ("aws-acls-disabled", "r2")), grants


def test_a_store_that_says_it_takes_acls_and_refuses_them_gets_files_without(
    build, config_vars, s3_server, s3_client, bucket, upload_client
):
    """Issue 22: GetBucketOwnershipControls answers "not found", which on AWS means ACLs are on,
    and every write with x-amz-acl is refused, as on R2. The first refusal turns the ACL off for
    the rest of the upload, in one line; the files refused are sent again without it, at most
    one refusal for each request in flight, and the page's assets are served. Redeploys, with
    the build cache or a new one, then send nothing and are refused nothing."""
    # Public reads as R2 gives them, a bucket setting: here the policy the README gives.
    s3_client.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket, "static"))
    concurrency = 4
    with running_proxy(s3_server.endpoint_url) as proxy:
        store = StoreProfile.named("r2-ownership-not-found", proxy)
        settings = (
            config_vars
            | upload_client
            | {
                "AWS_S3_ENDPOINT_URL": proxy.endpoint_url,
                "HEROKUIFY_UPLOAD_CONCURRENCY": str(concurrency),
            }
        )
        first = build("compressor", settings)
        assert first.ok, first.output
        first_seen, first_refused = list(store.seen), list(store.refused)
        with running_dyno(first.build_dir, settings) as dyno:
            urls = asset_urls(dyno.get("/"))
        served = {}
        for url in urls:
            with urllib.request.urlopen(url, timeout=10) as response:
                served[url] = response.status
        store.seen.clear()
        store.refused.clear()
        again = build("compressor", settings, cache_dir=first.cache_dir)
        fresh = build("compressor", settings)  # a new CACHE_DIR: the bucket alone says

    said = [line for line in first.output.splitlines() if "refused the public-read ACL" in line]
    assert " !     " not in first.output, first.output
    assert len(said) == 1 and "HEROKUIFY_STATIC_ACL=none" in said[0], said
    files = release_files_plain(first.build_dir / "staticfiles")
    assert f"Done: {len(files)} files uploaded, 0 unchanged" in first.output
    for key, path in files.items():
        assert s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() == path.read_bytes()
        grants = s3_client.get_object_acl(Bucket=bucket, Key=key)["Grants"]
        assert not any(grant["Grantee"].get("URI") == PUBLIC for grant in grants), key
    # What the store refused: its answer about ownership, and one upload per request in flight
    # at most, each sent again without the ACL.
    refused_puts = [target.key for target, _ in first_refused if target.operation == "PutObject"]
    assert 1 <= len(refused_puts) <= concurrency, refused_puts
    assert {target.operation for target, _ in first_refused} == {
        "GetBucketOwnershipControls",
        "PutObject",
    }
    puts = [target.key for target in first_seen if target.operation == "PutObject"]
    # Each file once, the refused again, the release record and the note about ACLs.
    assert len(puts) == len(files) + len(refused_puts) + 2, len(puts)
    bucket_url = f"{settings['AWS_S3_ENDPOINT_URL']}/{bucket}/static/"
    assets = [url for url in urls if url.startswith(bucket_url)]
    assert any("/CACHE/css/" in url for url in assets), urls
    assert any("/CACHE/js/" in url for url in assets), urls
    assert all(served[url] == 200 for url in assets), served

    for result in (again, fresh):
        assert result.ok, result.output
        assert f"Done: 0 files uploaded, {len(files)} unchanged, " in result.output
        assert "refused the public-read ACL" not in result.output
    writes = [t for t in store.seen if t.operation in ("PutObject", "CopyObject")]
    assert writes == [], writes
    refused = {target.operation for target, _ in store.refused}
    assert refused == {"GetBucketOwnershipControls"}, store.refused


def release_files_plain(static_root: Path) -> dict[str, Path]:
    """Every file the build uploads from ``static_root``, by its key."""
    return {
        f"static/{path.relative_to(static_root).as_posix()}": path
        for path in static_root.rglob("*")
        if path.is_file() and path.relative_to(static_root).as_posix() not in LOCAL_ONLY
    }


def test_blocked_public_reads_are_named_with_the_policy_that_fixes_them(
    build, config_vars, s3_server, s3_client, bucket
):
    """A new AWS bucket: ACLs disabled, Block Public Access on. Each build lands, and says what
    keeps browsers out: no policy (with the command that adds it), or Block Public Access,
    which vetoes even that policy. With the policy it printed, as pasted, and Block Public
    Access off, it says nothing more."""
    s3_client.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    names = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    block = {name: True for name in names}
    warning = " !     herokuify: browsers cannot load static files"
    with running_proxy(s3_server.endpoint_url) as proxy:
        store = StoreProfile.named("aws-acls-disabled", proxy)
        settings = config_vars | {"AWS_S3_ENDPOINT_URL": proxy.endpoint_url}
        denied = build("minimal", settings)
        (command,) = [
            line.removeprefix(" !     ")
            for line in denied.outputs["compile"].splitlines()
            if "put-bucket-policy" in line
        ]
        s3_client.put_bucket_policy(Bucket=bucket, Policy=command.split("--policy ", 1)[1][1:-1])
        s3_client.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block)
        blocked = build("minimal", settings, cache_dir=denied.cache_dir)
        s3_client.delete_public_access_block(Bucket=bucket)
        readable = build("minimal", settings, cache_dir=blocked.cache_dir)

    for result in (denied, blocked, readable):
        assert result.ok, result.output
    at_store = f"--endpoint-url {settings['AWS_S3_ENDPOINT_URL']} --region us-east-1"
    assert command.startswith(f"aws s3api put-bucket-policy {at_store} --bucket {bucket} --policy")
    assert warning in denied.output and "Block Public Access is on" not in denied.output
    assert warning in blocked.output and "Block Public Access is on" in blocked.output
    assert any(refusal.code == "AccessDenied" for _, refusal in store.refused)
    assert warning not in readable.output


def test_fonts_without_a_cors_rule_get_one_warning_line(
    build, config_vars, s3_client, bucket, tmp_path
):
    app = tmp_path / "app"
    shutil.copytree(FIXTURE.parent / "minimal", app, ignore=not_pushed)
    statics = sorted(
        path for path in app.rglob("static") if path.is_dir() and ".heroku" not in path.parts
    )
    (statics[0] / "icons.woff2").write_bytes(b"wOF2" + bytes(64))
    warned = build(app, config_vars)
    assert warned.ok, warned.output
    lines = [line for line in warned.output.splitlines() if "no CORS rule" in line]
    assert len(lines) == 1 and lines[0].startswith(" !     herokuify: web fonts"), lines

    s3_client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rules.cors_rule()]})
    quiet = build(app, config_vars, cache_dir=warned.cache_dir)
    assert quiet.ok and "no CORS rule" not in quiet.output, quiet.output


def test_a_date_that_is_not_plain_gmt_is_read_as_utc(
    build, config_vars, s3_server, s3_client, bucket
):
    """A proxy in front of the store may join two Date headers into one value (RFC 9110 lets
    it combine a repeated field), which parses with no zone. A build that prunes reads S3's
    clock from it, and compares that with the listing's times of an earlier prune's markers."""
    earlier_prune = f"{pruning.prunes_prefix('static')}{releases.stamp()}-0a1b2c3d"
    for end in (pruning.STARTED, pruning.DONE):
        s3_client.put_object(Bucket=bucket, Key=earlier_prune + end, Body=b"")

    def joined_dates(_: Request, response: Response) -> Response:
        date = response.header("date")
        if date is None:
            return response
        lines = [line for line in response.lines if not line.lower().startswith(b"date:")]
        return Response(
            response.status, response.version, [*lines, f"Date: {date}, {date}".encode()]
        )

    with running_proxy(s3_server.endpoint_url) as proxy:
        proxy.rewrite_head = joined_dates
        proxied = {**config_vars, "AWS_S3_ENDPOINT_URL": proxy.endpoint_url, "HEROKUIFY_PRUNE": "1"}
        first = build("minimal", proxied)
        assert first.ok, first.output
        again = build("minimal", proxied, cache_dir=first.cache_dir)
        assert again.ok, again.output
