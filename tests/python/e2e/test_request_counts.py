"""Requests a deploy makes, counted by a proxy between the build and the S3 server.

The issue's targets for request counts, on the compressor sample app:
1. a first deploy makes one PUT per file (plus one release record), no HEAD, no DELETE;
2. a redeploy with nothing changed makes no PUT, HEAD or DELETE, and at most one LIST per
   1,000 objects (besides the bucket check: GetBucketLocation, GetBucketOwnershipControls,
   GetPublicAccessBlock and GetBucketCors);
3. a redeploy with k files changed makes exactly the PUTs those changes need.
Hashed names (HEROKUIFY_HASHED_NAMES=1) must meet the same targets. Timing belongs to bench/;
each deploy's Steps line is checked here for the steps it names, not for their times.
"""

from __future__ import annotations

import collections
import math
import re
import shutil
import threading
import urllib.parse
from pathlib import Path

import pytest

from bench.run import step_times
from herokuify_buildpack import steptimes
from herokuify_dev.proxy import running_proxy

FIXTURE = Path(__file__).resolve().parents[3] / "test-fixtures" / "compressor"
RECORDS = "static/.herokuify/releases/"
# Manifests the app reads from the slug at run time; never uploaded.
LOCAL_ONLY = {"staticfiles.json", "CACHE/manifest.json"}
DONE = re.compile(r"Done: (\d+) files? uploaded, (\d+) unchanged")
DONE_SECONDS = re.compile(r" sent in (\d+\.\d) s to ")
# Steps that run beside the build's own thread, in another process.
BESIDE = (steptimes.HASHING, steptimes.LISTING)
# Query parameters of ListObjects(V2); any other names a bucket sub-resource (?location...).
LISTING_PARAMS = {"list-type", "prefix", "delimiter", "continuation-token", "start-after"}
LISTING_PARAMS |= {"max-keys", "encoding-type", "marker", "fetch-owner"}
# Files added to the app that no compress block bundles: changing them changes nothing else.
STANDALONE = {
    "shop/data/prices.json": b'{"apple": 1}\n',
    "shop/fonts/icons.woff2": b"wOF2" + bytes(range(256)) * 8,
    "shop/img/badge.svg": b'<svg xmlns="http://www.w3.org/2000/svg"></svg>\n',
}


def kind_of(method: str, target: str) -> str:
    """The S3 operation kind; the bucket check's GetBucketLocation, GetBucketOwnershipControls,
    GetBucketCors and GetPublicAccessBlock are LOCATION, OWNERSHIP, CORS and BLOCK, not
    listings."""
    if method != "GET":
        return method
    parts = urllib.parse.urlsplit(target)
    if len([s for s in parts.path.split("/") if s]) > 1:  # path style: /bucket/key
        return "GET"
    params = {name for name, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)}
    if params <= LISTING_PARAMS:
        return "LIST"
    check = {"location": "LOCATION", "ownershipControls": "OWNERSHIP", "cors": "CORS"}
    return (check | {"publicAccessBlock": "BLOCK"}).get(",".join(params), "GET")


class Recorder:
    """Every request the proxy forwards, by kind."""

    def __init__(self, proxy) -> None:
        self.proxy = proxy
        self.kinds: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        proxy.handler = self.handle

    async def handle(self, conn, request) -> bool:
        with self.lock:
            self.kinds[kind_of(request.method, request.target)] += 1
        return await self.proxy.forward(conn, request)

    def take(self) -> collections.Counter[str]:
        """The counts since the last take, and a fresh start."""
        with self.lock:
            counts, self.kinds = self.kinds, collections.Counter()
        return counts


@pytest.fixture
def recorder(s3_server):
    with running_proxy(s3_server.endpoint_url) as proxy:
        yield Recorder(proxy)


@pytest.fixture
def proxied_vars(config_vars, recorder):
    return config_vars | {
        "AWS_S3_ENDPOINT_URL": recorder.proxy.endpoint_url,
        "DISABLE_COLLECTSTATIC": "1",  # heroku/python's local collect makes no S3 request anyway
    }


@pytest.fixture
def app(tmp_path) -> Path:
    """The compressor app, copied so that a test may change its files between builds."""
    app_dir = tmp_path / "app"
    shutil.copytree(FIXTURE, app_dir, ignore=shutil.ignore_patterns("staticfiles", "*.sqlite3"))
    static = app_dir / "shop_site" / "static"
    for name, data in STANDALONE.items():
        (static / name).parent.mkdir(parents=True, exist_ok=True)
        (static / name).write_bytes(data)
    return app_dir


def collected(build_dir: Path) -> dict[str, bytes]:
    static_root = build_dir / "staticfiles"
    found = {}
    for path in static_root.rglob("*"):
        name = path.relative_to(static_root).as_posix()
        if path.is_file() and name not in LOCAL_ONLY:
            found[name] = path.read_bytes()
    return found


def bucket_keys(s3_client, bucket: str) -> set[str]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="static/")
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def needed_puts(before: dict[str, bytes], after: dict[str, bytes]) -> tuple[int, int]:
    """Files whose bytes are new or differ, and release records (1 when the names changed)."""
    differing = sum(1 for name, data in after.items() if before.get(name) != data)
    return differing, int(set(before) != set(after))


def check_deploy(result, counts, before, objects_before, s3_client, bucket):
    """The requests of one deploy: exactly the PUTs its changes need, and nothing else."""
    assert result.ok, result.output
    after = collected(result.build_dir)
    files, records = needed_puts(before, after)
    keys = bucket_keys(s3_client, bucket)
    assert {k for k in keys if not k.startswith(RECORDS)} >= {f"static/{n}" for n in after}
    assert counts["PUT"] == files + records, (counts, files, records)
    assert counts["HEAD"] == 0, counts
    assert counts["DELETE"] == 0, counts
    assert counts["POST"] == 0, counts  # no multipart upload for small files, no batch delete
    assert counts["GET"] == 1, counts  # one anonymous read of one static object, as a browser's
    assert counts["LOCATION"] == 1, counts  # the bucket check before any Django work
    assert counts["OWNERSHIP"] == 1, counts  # and whether the bucket takes ACLs
    assert counts["CORS"] == 1, counts  # and whether other origins may load its fonts
    assert counts["BLOCK"] == 1, counts  # and whether Block Public Access refuses public ACLs
    assert 1 <= counts["LIST"] <= max(1, math.ceil(objects_before / 1000)), counts
    # The build's own summary agrees with what reached the bucket.
    done = DONE.search(result.outputs["compile"])
    assert done, result.outputs["compile"]
    assert (int(done[1]), int(done[2])) == (files, len(after) - files)
    check_steps(result.outputs["compile"], recorded=records > 0)
    return after, len(keys)


def check_steps(output: str, recorded: bool) -> None:
    """The Steps line, just before the summary, names every step that ran: on this app all of
    them, but the record when the newest release record already names these files. Unchanged
    files still make an upload step: STATIC_ROOT scanned and the plan made."""
    lines = output.splitlines()
    done_at = next(i for i, line in enumerate(lines) if line.startswith("-----> Done: "))
    assert lines[done_at - 1].startswith("       Steps: "), lines[done_at - 1]
    steps = step_times(output)
    ran = [name for name in steptimes.ORDER if recorded or name != steptimes.RECORD]
    assert list(steps) == ran, lines[done_at - 1]
    # The steps of the build's own thread lie within its total: none is counted twice.
    in_the_build = sum(seconds for name, seconds in steps.items() if name not in BESIDE)
    total = float(DONE_SECONDS.search(lines[done_at])[1])
    assert in_the_build <= total + 0.05 + 0.005 * len(steps), (steps, total)


# Appended to change a file; in CSS and JS a rule or statement, which minifying keeps.
CHANGES = {".css": b"\n.changed { color: red; }\n", ".js": b"\nwindow.changed = true;\n"}


def change(app: Path, names: list[str]) -> None:
    static = app / "shop_site" / "static"
    for name in names:
        path = static / name
        path.write_bytes(path.read_bytes() + CHANGES.get(path.suffix, b"\n<!-- changed -->\n"))


def deploy_three_times(build, app, vars_, recorder, s3_client, bucket, changed):
    """First deploy, unchanged redeploy, then redeploy after changing ``changed``; the counts."""
    first = build(app, vars_)
    counts = recorder.take()
    first_files, objects = check_deploy(first, counts, {}, 0, s3_client, bucket)
    assert counts["PUT"] == len(first_files) + 1  # every file once, and one release record
    assert len(list(s3_client.list_objects_v2(Bucket=bucket, Prefix=RECORDS)["Contents"])) == 1

    again = build(app, vars_, cache_dir=first.cache_dir)
    counts = recorder.take()
    check_deploy(again, counts, first_files, objects, s3_client, bucket)
    assert counts["PUT"] == 0, counts

    change(app, changed)
    third = build(app, vars_, cache_dir=again.cache_dir)
    counts = recorder.take()
    check_deploy(third, counts, collected(again.build_dir), objects, s3_client, bucket)
    return counts


def test_plain_names_one_put_per_changed_file(
    build, app, proxied_vars, recorder, s3_client, bucket
):
    """Three standalone files changed: exactly three PUTs, and no new release record."""
    counts = deploy_three_times(
        build, app, proxied_vars, recorder, s3_client, bucket, changed=sorted(STANDALONE)
    )
    assert counts["PUT"] == 3, counts


def test_hashed_names_put_only_what_changed(build, app, proxied_vars, recorder, s3_client, bucket):
    """With hashed names a changed source also changes its hashed copy, and a stylesheet or
    script in a compress block changes its bundle: each of those is one PUT, nothing more."""
    vars_ = proxied_vars | {"HEROKUIFY_HASHED_NAMES": "1"}
    changed = ["shop/base.css", "shop/cart.js", "shop/img/logo.png"]
    counts = deploy_three_times(build, app, vars_, recorder, s3_client, bucket, changed)
    # Each source (a new original) and its new hashed copy; the CSS and the JS bundle, both
    # with new names; one release record, since names changed.
    assert counts["PUT"] == 3 * 2 + 2 + 1, counts
