"""Headers and ACLs are part of what makes an object up to date, as its bytes are.

Builds of the compressor app through bin/*, against moto behind a proxy that names each
request's S3 operation. A changed HEROKUIFY_STATIC_MAX_AGE or HEROKUIFY_STATIC_ACL, or objects
left by another tool with other headers, are fixed by one CopyObject each and no byte sent again;
the build knows what it gave each object from its cache or the newest release record, never by
a HEAD per object.
"""

from __future__ import annotations

import collections
import re

import pytest

from herokuify_buildpack.upload.localfiles import IMMUTABLE
from herokuify_dev.faults import FaultInjector
from herokuify_dev.proxy import running_proxy

RECORDS = "static/.herokuify/releases/"
DONE = re.compile(
    r"Done: (\d+) files? uploaded, (\d+) unchanged, (?:(\d+) of them given new headers)?"
)
LOCAL_ONLY = {"staticfiles.json", "CACHE/manifest.json"}
ANONYMOUS_READ = 1  # each build reads one static object as a browser would (publicread.py)


@pytest.fixture
def operations(s3_server):
    with running_proxy(s3_server.endpoint_url) as proxy:
        yield FaultInjector(proxy)  # no rules: it only names the requests


@pytest.fixture
def proxied(config_vars, operations):
    return config_vars | {"AWS_S3_ENDPOINT_URL": operations.proxy.endpoint_url}


def taken(operations: FaultInjector) -> collections.Counter[str]:
    counts = collections.Counter(target.operation for target in operations.requests)
    operations.reset()
    return counts


def objects(s3_client, bucket: str) -> dict[str, dict]:
    """Each asset's Cache-Control, Content-Type, ETag and whether anyone may read it."""
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="static/")
    found = {}
    for key in (item["Key"] for page in pages for item in page.get("Contents", [])):
        if key.startswith(RECORDS):
            continue
        head = s3_client.head_object(Bucket=bucket, Key=key)
        grants = s3_client.get_object_acl(Bucket=bucket, Key=key)["Grants"]
        found[key] = {
            "cache_control": head.get("CacheControl"),
            "content_type": head["ContentType"],
            "etag": head["ETag"],
            "public": any(g["Grantee"].get("URI", "").endswith("/AllUsers") for g in grants),
        }
    return found


def done(result) -> tuple[int, int, int]:
    match = DONE.search(result.outputs["compile"])
    assert match, result.outputs["compile"]
    return int(match[1]), int(match[2]), int(match[3] or 0)


def test_changed_config_vars_reach_objects_already_uploaded(
    build, proxied, operations, s3_client, bucket
):
    first = build("compressor", proxied)
    assert first.ok, first.output
    before = objects(s3_client, bucket)
    short_lived = {key for key, held in before.items() if held["cache_control"] != IMMUTABLE}
    assert short_lived and len(short_lived) < len(before)
    assert all(held["public"] for held in before.values())
    taken(operations)

    longer = proxied | {"HEROKUIFY_STATIC_MAX_AGE": "600"}
    second = build("compressor", longer, cache_dir=first.cache_dir)
    assert second.ok, second.output
    counts = taken(operations)
    assert counts["CopyObject"] == len(short_lived), counts
    assert counts["PutObject"] == 1, counts  # the release record: the headers changed
    assert counts["HeadObject"] == 0, counts
    assert counts["GetObject"] == ANONYMOUS_READ, counts
    assert done(second) == (0, len(before), len(short_lived))
    after = objects(s3_client, bucket)
    for key, held in after.items():
        wanted = "public, max-age=600" if key in short_lived else IMMUTABLE
        assert held["cache_control"] == wanted, key
        assert {**held, "cache_control": None} == {**before[key], "cache_control": None}, key

    # Nothing changed since: an unchanged redeploy, with its cache or with a new one, whose
    # newest release record then says what every object was given.
    for cache_dir in (second.cache_dir, None):
        again = build("compressor", longer, cache_dir=cache_dir)
        assert again.ok, again.output
        counts = taken(operations)
        assert counts["CopyObject"] == counts["PutObject"] == 0, counts
        assert counts["GetObject"] == ANONYMOUS_READ, counts
        assert done(again) == (0, len(before), 0)

    # A new CACHE_DIR and another ACL: the newest record is read once, and every object copied.
    private = longer | {"HEROKUIFY_STATIC_ACL": "none"}
    third = build("compressor", private)
    assert third.ok, third.output
    counts = taken(operations)
    assert counts["GetObject"] == 1 + ANONYMOUS_READ, counts  # and the newest record, once
    assert counts["CopyObject"] == len(before), counts
    assert not any(held["public"] for held in objects(s3_client, bucket).values())


def test_objects_left_private_by_another_tool_are_made_public_without_sending_bytes(
    build, proxied, operations, s3_client, bucket, tmp_path
):
    """An app moving from django-storages' collectstatic: the same bytes under the same keys,
    private and typed binary/octet-stream, and no release record."""
    first = build("compressor", proxied)
    assert first.ok, first.output
    static_root = first.build_dir / "staticfiles"
    s3_client.delete_objects(
        Bucket=bucket,
        Delete={
            "Objects": [
                {"Key": key} for key in [*objects(s3_client, bucket), *records(s3_client, bucket)]
            ]
        },
    )
    keys = []
    for path in static_root.rglob("*"):
        name = path.relative_to(static_root).as_posix()
        if path.is_file() and name not in LOCAL_ONLY:
            s3_client.put_object(
                Bucket=bucket,
                Key=f"static/{name}",
                Body=path.read_bytes(),
                ContentType="binary/octet-stream",
            )
            keys.append(f"static/{name}")
    assert not any(held["public"] for held in objects(s3_client, bucket).values())
    taken(operations)

    moved = build("compressor", proxied)
    assert moved.ok, moved.output
    counts = taken(operations)
    assert counts["CopyObject"] == len(keys), counts
    assert counts["PutObject"] == 1, counts  # the release record alone: no byte sent again
    assert done(moved) == (0, len(keys), len(keys))
    held = objects(s3_client, bucket)
    assert set(held) == set(keys)
    assert all(each["public"] for each in held.values())
    assert held["static/shop/base.css"]["content_type"] == "text/css"


def records(s3_client, bucket: str) -> list[str]:
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix=RECORDS).get("Contents", [])
    return [item["Key"] for item in listed]


def test_headers_changed_outside_the_buildpack_stay_until_the_object_is_deleted(
    build, proxied, operations, s3_client, bucket
):
    """What the README promises about changes made in the console: a build does not see
    them, since it asks S3 nothing per object; deleting the object has it uploaded again."""
    first = build("compressor", proxied)
    assert first.ok, first.output
    key = "static/shop/base.css"
    s3_client.copy_object(
        Bucket=bucket,
        Key=key,
        CopySource={"Bucket": bucket, "Key": key},
        MetadataDirective="REPLACE",
        ContentType="text/plain",
        CacheControl="no-store",
    )
    again = build("compressor", proxied, cache_dir=first.cache_dir)
    assert again.ok, again.output
    assert objects(s3_client, bucket)[key]["cache_control"] == "no-store"

    s3_client.delete_object(Bucket=bucket, Key=key)
    taken(operations)
    repaired = build("compressor", proxied, cache_dir=again.cache_dir)
    assert repaired.ok, repaired.output
    assert [t.key for t in operations.requests if t.operation == "PutObject"] == [key]
    held = objects(s3_client, bucket)[key]
    assert (held["content_type"], held["cache_control"]) == ("text/css", "public, max-age=300")
