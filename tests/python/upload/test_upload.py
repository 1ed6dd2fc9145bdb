"""The upload internals (herokuify_buildpack/upload/) against the real moto server.

They are library functions, so they run in this process, with real boto3 and s3transfer over
HTTP; the counting proxy in front of moto shows which requests they make, and its handler seam
injects failures.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.utils import parse_timestamp

from herokuify_buildpack.assets import prehash
from herokuify_buildpack.assets.prehash import SourceEtags
from herokuify_buildpack.bucket import pruning, releases
from herokuify_buildpack.bucket.client import make_client as build_client
from herokuify_buildpack.bucket.client import parse_iso_timestamp
from herokuify_buildpack.bucket.listing import list_prefix
from herokuify_buildpack.config import S3Config
from herokuify_buildpack.errors import HerokuifyError
from herokuify_buildpack.steptimes import HASHING, StepTimes
from herokuify_buildpack.upload import transfer
from herokuify_buildpack.upload.cache import UploadCache
from herokuify_buildpack.upload.etag import PART_SIZE, expected_etag
from herokuify_buildpack.upload.localfiles import scan
from herokuify_buildpack.upload.plan import KnownHeaders, plan_uploads
from herokuify_dev.proxy import running_proxy
from herokuify_dev.s3server import make_client
from herokuify_dev.stores import StoreProfile

PREFIX = "static"
NO_REQUESTS = {"PUT": 0, "GET": 0, "LIST": 0, "HEAD": 0, "DELETE": 0, "POST": 0}


@pytest.fixture
def proxy(s3_server):
    with running_proxy(s3_server.endpoint_url) as proxy:
        yield proxy


def product_client(config_vars, endpoint_url: str):
    """The client the build makes (its retries and pool), pointed at `endpoint_url`."""
    s3 = S3Config.from_env({**config_vars, "AWS_S3_ENDPOINT_URL": endpoint_url})
    return build_client(s3, concurrency=4)


def write_files(root: Path, contents: dict[str, bytes]) -> None:
    for name, data in contents.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def scan_root(root: Path, max_age: int = 300, acl: str | None = "public-read"):
    return scan(
        root, PREFIX, immutable=frozenset(), local_only=frozenset(), max_age=max_age, acl=acl
    )


def upload(client, bucket: str, files):
    return transfer.upload(client, bucket, files, concurrency=4, on_tick=lambda *_: None)


def current(cache: UploadCache) -> KnownHeaders:
    """What a build knows when the newest release record is its own: every header current."""
    return KnownHeaders(cache, newest_is_this_release=True, read_newest_record=dict)


def names(files) -> list[str]:
    return sorted(file.name for file in files)


def test_expected_etag_matches_s3_for_single_and_multipart_uploads(
    tmp_path, config_vars, bucket, s3_client, proxy
):
    """The ETag computed locally is the one S3 lists for what transfer.upload sent: one PUT
    below PART_SIZE, multipart (create, parts, complete) from PART_SIZE up; never a HEAD."""
    write_files(
        tmp_path,
        {
            "empty.txt": b"",
            "small.css": os.urandom(1000),
            "exact.bin": os.urandom(PART_SIZE),
            "big.bin": os.urandom(2 * PART_SIZE + 1),
        },
    )
    files = {file.name: file for file in scan_root(tmp_path)}
    batches = {
        ("empty.txt", "small.css"): {**NO_REQUESTS, "PUT": 2},
        ("exact.bin",): {**NO_REQUESTS, "PUT": 1, "POST": 2},
        ("big.bin",): {**NO_REQUESTS, "PUT": 3, "POST": 2},
    }
    confirmed = {}
    for batch, expected_counts in batches.items():
        proxy.reset()
        # A client per batch: each upload() call hooks its own report into the client's events.
        report = upload(
            product_client(config_vars, proxy.endpoint_url), bucket, [files[name] for name in batch]
        )
        assert report.failed == []
        assert proxy.counts() == expected_counts, batch
        assert report.bytes_sent == sum(files[name].size for name in batch)
        confirmed.update(report.confirmed)

    listed = {
        item["Key"]: item["ETag"].strip('"')
        for item in s3_client.list_objects_v2(Bucket=bucket)["Contents"]
    }
    assert set(listed) == {file.key for file in files.values()}
    for file in files.values():
        local = expected_etag(file.path, file.size)
        assert local == file.etag
        assert local == listed[file.key] == confirmed[file.key], file.name
    assert listed["static/exact.bin"].endswith("-1")
    assert listed["static/big.bin"].endswith("-3")
    assert "-" not in listed["static/small.css"]


def test_plan_compares_sizes_and_etags(tmp_path, config_vars, s3_server, bucket):
    """Files whose size and ETag match the listing are skipped; any content change is sent."""
    client = product_client(config_vars, s3_server.endpoint_url)
    cache = UploadCache.load(tmp_path / "cache", "empty")
    root = tmp_path / "root"
    write_files(root, {"a.css": b"body{color:red}", "b.js": b"let x = 1;", "c.txt": b"hello"})
    assert upload(client, bucket, scan_root(root)).failed == []

    plan = plan_uploads(scan_root(root), list_prefix(client, bucket, PREFIX), current(cache))
    assert names(plan.unchanged) == ["a.css", "b.js", "c.txt"]
    assert plan.new == plan.changed == []

    write_files(
        root,
        {
            "a.css": b"body{color:RED}",  # same size, other content: the ETag differs
            "b.js": b"let x = 10;",  # other size
            "d.txt": b"new",
        },
    )
    plan = plan_uploads(scan_root(root), list_prefix(client, bucket, PREFIX), current(cache))
    assert names(plan.changed) == ["a.css", "b.js"]
    assert names(plan.new) == ["d.txt"]
    assert names(plan.unchanged) == ["c.txt"]
    assert names(plan.uploads[:1]) == ["d.txt"]  # new names go before overwrites


def test_cache_pairs_etags_but_never_outvotes_the_listing(tmp_path, config_vars, s3_server, bucket):
    """A cached (local ETag, remote ETag) pair marks a file unchanged when the bucket's ETag is
    not its MD5 (as with SSE-KMS); an object rewritten or deleted behind the cache's back is
    sent again; a damaged cache file loads as empty; it keeps only the files of the last build."""
    client = product_client(config_vars, s3_server.endpoint_url)
    root, cache_dir = tmp_path / "root", tmp_path / "cache"
    location = f"{s3_server.endpoint_url}/{bucket}/{PREFIX}"
    write_files(root, {"logo.png": b"local bytes!"})
    [file] = scan_root(root)
    # Same size, other bytes: the listed ETag is not the local file's MD5, as with SSE-KMS.
    client.put_object(Bucket=bucket, Key=file.key, Body=b"stored bytes")
    remote = list_prefix(client, bucket, PREFIX)
    assert remote[file.key].etag != file.etag and remote[file.key].size == file.size

    assert plan_uploads([file], remote, current(UploadCache.load(cache_dir, location))).changed == [
        file
    ]
    cache = UploadCache.load(cache_dir, location)
    cache.record(file, remote[file.key].etag)
    cache.save(location)
    reloaded = UploadCache.load(cache_dir, location)
    entry = (file.etag, remote[file.key].etag, file.headers_tag)
    assert reloaded.entries == {file.key: entry}
    assert plan_uploads([file], remote, current(reloaded)).unchanged == [file]
    assert UploadCache.load(cache_dir, f"{location}-elsewhere").entries == {}
    reloaded.record(replace(file, key=f"{PREFIX}/an-earlier-release.css"), "remote")
    reloaded.keep_only({file.key})  # only this build's files stay remembered
    assert reloaded.entries == {file.key: entry}

    client.put_object(Bucket=bucket, Key=file.key, Body=b"other bytes!")  # behind its back
    rewritten = list_prefix(client, bucket, PREFIX)
    assert rewritten[file.key].etag != remote[file.key].etag
    assert plan_uploads([file], rewritten, current(reloaded)).changed == [file]

    client.delete_object(Bucket=bucket, Key=file.key)
    gone = list_prefix(client, bucket, PREFIX)
    assert plan_uploads([file], gone, current(reloaded)).new == [file]

    for damage in (
        "{not json",
        json.dumps({"format": 2, "location": location, "entries": {file.key: [file.etag]}}),
        # An earlier version's entries, which name no headers: not damage, but not used.
        json.dumps({"format": 1, "location": location, "entries": {file.key: list(entry[:2])}}),
    ):
        reloaded.path.write_text(damage)
        assert UploadCache.load(cache_dir, location).entries == {}


def is_public(s3_client, bucket: str, key: str) -> bool:
    grants = s3_client.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    return any(g["Grantee"].get("URI", "").endswith("/global/AllUsers") for g in grants)


def test_headers_that_changed_are_given_by_copies_without_bytes(
    tmp_path, config_vars, bucket, s3_client, proxy
):
    """Objects whose bytes are current but whose Cache-Control or ACL is not are planned as
    stale_headers, whether the build cache or the newest release record says what they were
    given; copy_headers fixes them with one CopyObject each, sending no byte again."""
    root, cache_dir = tmp_path / "root", tmp_path / "cache"
    write_files(root, {"app.css": b"body {}", "app.js": b"let a;", "logo.svg": b"<svg/>"})
    client = product_client(config_vars, proxy.endpoint_url)
    before = scan_root(root, max_age=300, acl=None)
    report = upload(client, bucket, before)
    cache = UploadCache.load(cache_dir, "here")
    for file in before:
        cache.record(file, report.confirmed[file.key])
    assert not any(is_public(s3_client, bucket, file.key) for file in before)

    after = scan_root(root, max_age=600, acl="public-read")
    remote = list_prefix(client, bucket, PREFIX)
    from_cache = KnownHeaders(cache, newest_is_this_release=False, read_newest_record=dict)
    plan = plan_uploads(after, remote, from_cache)
    assert names(plan.stale_headers) == ["app.css", "app.js", "logo.svg"]
    assert plan.uploads == plan.unchanged == []
    # A new CACHE_DIR: the newest record names one object's new headers, and not the others'.
    record = {after[0].key: after[0].headers_tag, after[1].key: before[1].headers_tag}
    from_record = KnownHeaders(
        UploadCache.load(tmp_path / "new-cache", "here"), False, lambda: record
    )
    plan = plan_uploads(after, remote, from_record)
    assert names(plan.unchanged) == ["app.css"]
    assert names(plan.stale_headers) == ["app.js", "logo.svg"]

    proxy.reset()
    copied = transfer.copy_headers(client, bucket, after, 4)
    assert copied.failed == [] and copied.bytes_sent == 0
    assert proxy.counts() == {**NO_REQUESTS, "PUT": 3}  # CopyObject is a PUT with no body
    for file in after:
        head = s3_client.head_object(Bucket=bucket, Key=file.key)
        assert head["CacheControl"] == "public, max-age=600"
        assert head["ContentType"] == file.content_type
        assert is_public(s3_client, bucket, file.key)
        assert copied.confirmed[file.key] == head["ETag"].strip('"') == file.etag


@pytest.mark.parametrize("chosen", [False, True])
def test_an_acl_the_store_refuses_is_dropped_from_the_first_refusal_on(
    tmp_path, config_vars, bucket, s3_client, proxy, chosen
):
    """A store that said it takes ACLs and refuses them: once it refuses one, uploads, multipart
    uploads and copies go without the ACL, and the files refused, at most one per request in
    flight (4 here), are sent again without it. An ACL that HEROKUIFY_STATIC_ACL chose is never
    dropped: every file fails."""
    store = StoreProfile.named("r2-ownership-not-found", proxy)
    small = {f"css/{n:02}.css": os.urandom(100 + n) for n in range(12)}
    write_files(tmp_path, {**small, "big.bin": os.urandom(PART_SIZE + 1)})
    files = scan_root(tmp_path)
    client = product_client(config_vars, proxy.endpoint_url)

    with transfer.AclDrop(client, allowed=not chosen) as acl:
        report = acl.again(upload(client, bucket, files), lambda left: upload(client, bucket, left))
        copied = transfer.copy_headers(client, bucket, files[:3], 4)
    if chosen:
        assert len(report.failed) == len(files) and report.confirmed == {}
        assert not acl.dropped and acl.given(files[0]) == files[0]
        return
    assert report.failed == [] and copied.failed == []
    assert set(report.confirmed) == {file.key for file in files}
    assert acl.refused_acl == "public-read"
    assert [acl.given(file) for file in files] == [file.without_acl() for file in files]
    refused = [target.operation for target, _ in store.refused]
    assert 1 <= len(refused) <= 4, refused
    assert set(refused) <= {"PutObject", "CreateMultipartUpload"}, refused
    for file in files:
        assert not is_public(s3_client, bucket, file.key)
        body = s3_client.get_object(Bucket=bucket, Key=file.key)["Body"].read()
        assert body == file.path.read_bytes()


def test_only_confirmed_uploads_are_recorded(tmp_path, bucket, s3_client, proxy):
    """When S3 answers 500 to every attempt at one key, that file is reported failed and only
    the others, with the ETags S3 gave them, are reported confirmed."""
    root = tmp_path / "root"
    write_files(root, {f"file-{n}.css": f".c{n} {{}}".encode() * (n + 1) for n in range(6)})
    files = scan_root(root)
    doomed = files[2]
    attempts = []
    error = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
        b"<Message>injected by the test</Message></Error>"
    )

    async def fail_one_key(conn, request):
        path = urllib.parse.urlsplit(request.target).path
        if request.method != "PUT" or path != f"/{bucket}/{doomed.key}":
            return await proxy.forward(conn, request)
        attempts.append(request.target)
        if (request.header("expect") or "").lower() == "100-continue":
            conn.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await conn.reader.readexactly(int(request.header("content-length") or 0))
        conn.writer.write(
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(error), error)
        )
        await conn.writer.drain()
        return True

    proxy.handler = fail_one_key
    # Three attempts in all rather than the build's budget (six retries), whose backoff would
    # cost tens of seconds here.
    client = make_client(
        proxy.endpoint_url, config=Config(retries={"mode": "standard", "total_max_attempts": 3})
    )
    report = upload(client, bucket, files)

    assert len(attempts) == 3
    [(failed_file, exc)] = report.failed
    assert failed_file == doomed
    assert isinstance(exc, ClientError)
    assert exc.response["Error"]["Code"] == "InternalError"
    others = [file for file in files if file is not doomed]
    assert report.confirmed == {file.key: file.etag for file in others}
    listed = {
        item["Key"]: item["ETag"].strip('"')
        for item in s3_client.list_objects_v2(Bucket=bucket)["Contents"]
    }
    assert listed == report.confirmed


def test_release_records_and_pruning(bucket, s3_client):
    """A release record is written only when the key set changes; pruning waits for
    keep_releases records, spares young objects, then deletes exactly what only the oldest
    release used, with its record."""
    history = [
        ["static/app.css", "static/only-1.js", "static/r1-and-r3.png"],
        ["static/app.css", "static/only-2.js"],
        ["static/app.css", "static/only-3.js", "static/r1-and-r3.png"],
        ["static/app.css", "static/only-4.js"],
    ]
    records = []

    def deploy(keys) -> bool:
        for key in keys:
            s3_client.put_object(Bucket=bucket, Key=key, Body=key.encode())
        before = list_prefix(s3_client, bucket, PREFIX)
        release = dict.fromkeys(keys, "tag")
        written = not releases.is_recorded(PREFIX, release, before)
        if written:
            releases.record_release(s3_client, bucket, PREFIX, release)
        new = set(list_prefix(s3_client, bucket, PREFIX)) - set(before)
        assert len(new) == int(written)
        records.extend(sorted(new))
        return written

    def prune(keys, **grace):
        remote = list_prefix(s3_client, bucket, PREFIX)
        release = dict.fromkeys(keys, "tag")
        result = pruning.prune(s3_client, bucket, PREFIX, remote, release, 3, **grace)
        return result, set(remote) - set(list_prefix(s3_client, bucket, PREFIX))

    assert deploy(history[0])
    assert not deploy(list(reversed(history[0])))  # the same set: no new record
    assert deploy(history[1])
    assert len(records) == 2
    assert all(key.startswith(releases.records_prefix(PREFIX)) for key in records)
    record = json.loads(s3_client.get_object(Bucket=bucket, Key=records[0])["Body"].read())
    assert record == {"keys": sorted(history[0]), "headers": ["tag"] * len(history[0])}

    result, deleted = prune(history[1], grace=timedelta(0))
    assert (result.deleted, result.kept_releases, deleted) == (0, 2, set())

    assert deploy(history[2])
    assert deploy(history[3])
    result, deleted = prune(history[3])  # the default grace: everything here is too young
    assert (result.deleted, deleted) == (0, set())

    result, deleted = prune(history[3], grace=timedelta(0))
    assert deleted == {"static/only-1.js", records[0]}
    assert (result.deleted, result.kept_releases) == (2, 3)
    remaining = set(list_prefix(s3_client, bucket, PREFIX))
    markers = {key for key in remaining if key.startswith(pruning.prunes_prefix(PREFIX))}
    assert {key.rsplit(".", 1)[1] for key in markers} == {"started", "done"}  # one prune, ended
    assert remaining - markers == set().union(*history[1:]) | set(records[1:])


def test_listing_takes_one_request_per_thousand_keys(bucket, s3_client, proxy):
    """list_prefix pages through ListObjectsV2: ceil(N / 1000) requests, every key, and nothing
    outside the prefix."""
    count = 2500
    keys = [f"static/files/{n:05d}.txt" for n in range(count)]
    writer = make_client(s3_client.meta.endpoint_url, config=Config(max_pool_connections=8))
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: writer.put_object(Bucket=bucket, Key=key, Body=b"x"), keys))
    for outside in ("staticfiles/a.txt", "media/b.txt", "static"):
        writer.put_object(Bucket=bucket, Key=outside, Body=b"y")

    listed = list_prefix(make_client(proxy.endpoint_url), bucket, PREFIX)
    assert proxy.counts() == {**NO_REQUESTS, "LIST": math.ceil(count / 1000)}
    assert sorted(listed) == keys
    assert {(held.size, held.etag) for held in listed.values()} == {
        (1, hashlib.md5(b"x").hexdigest())
    }


def test_build_client_reads_listing_timestamps_as_botocore_does(
    bucket, s3_client, s3_server, config_vars
):
    """The build client parses LastModified with the standard library (see s3client): the same
    aware datetimes botocore's own parser gives, with other formats left to botocore."""
    for n in range(3):
        s3_client.put_object(Bucket=bucket, Key=f"{PREFIX}/{n}.txt", Body=b"x")
    ours = list_prefix(product_client(config_vars, s3_server.endpoint_url), bucket, PREFIX)
    botocores = list_prefix(s3_client, bucket, PREFIX)
    assert len(ours) == 3
    assert {key: held.last_modified for key, held in ours.items()} == {
        key: held.last_modified for key, held in botocores.items()
    }
    assert all(held.last_modified.utcoffset() == timedelta(0) for held in ours.values())
    for value in ("2026-11-23T23:11:17.000Z", "Mon, 23 Nov 2026 23:11:17 GMT", "1795475477"):
        assert parse_iso_timestamp(value) == parse_timestamp(value)
    naive = parse_iso_timestamp("2026-11-23T23:11:17")
    assert naive == parse_timestamp("2026-11-23T23:11:17")


@pytest.fixture(params=["worker", "in-process"])
def hashing(request, monkeypatch) -> None:
    """Both ways SourceEtags hashes: in a second process, and for a small app in the build's."""
    limit = 0 if request.param == "worker" else prehash.IN_PROCESS_LIMIT
    monkeypatch.setattr(prehash, "IN_PROCESS_LIMIT", limit)


def test_source_etags_serve_links_to_sources_and_hash_the_rest(tmp_path, hashing):
    """SourceEtags hashes sources in a second process while collectstatic links them: a link to
    a prehashed source gets its ETag, a file the build recorded its own, and a real file or a
    link to anything else is hashed as it is."""
    sources, collected = tmp_path / "app-static", tmp_path / "staticfiles"
    write_files(sources, {"app.css": b"body {}", "big.bin": os.urandom(PART_SIZE + 1)})
    write_files(tmp_path / "elsewhere", {"other.js": b"let other;"})
    write_files(collected, {"app.1a2b3c.css": b"body { color: red }"})  # a post-processed copy
    (collected / "app.css").symlink_to(sources / "app.css")
    (collected / "big.bin").symlink_to(sources / "big.bin")
    (collected / "other.js").symlink_to(tmp_path / "elsewhere" / "other.js")

    times = StepTimes()
    etags = SourceEtags([sources / "app.css", sources / "big.bin"], os.environ, times)
    assert times.seconds == {}  # known once the hashing's answer is read
    for name in ("app.css", "big.bin", "other.js", "app.1a2b3c.css"):
        path = collected / name
        assert etags.etag(path, path.stat().st_size) == expected_etag(path, path.stat().st_size)
    assert etags.etag(collected / "big.bin", PART_SIZE + 1).endswith("-2")
    assert etags.etag(collected / "app.css", 7) == hashlib.md5(b"body {}").hexdigest()
    # Served from the hashing done beside collectstatic, not read again: the build never
    # changes a source after listing it, so this later write shows which path answered.
    (sources / "app.css").write_bytes(b"changed")
    assert etags.etag(collected / "app.css", 7) == hashlib.md5(b"body {}").hexdigest()
    assert etags.source_etag(str(sources / "big.bin")) == expected_etag(
        sources / "big.bin", PART_SIZE + 1
    )
    assert etags.source_etag(str(tmp_path / "elsewhere" / "other.js")) is None
    etags.record(str(collected / "app.1a2b3c.css"), "recorded")
    assert etags.etag(collected / "app.1a2b3c.css", 19) == "recorded"
    # The hashing's wall time: for the worker, on a clock it shares with the build, from its
    # start to its answer.
    assert 0 < times.seconds[HASHING] < 60


def test_source_etags_start_no_process_for_an_app_without_sources(tmp_path, monkeypatch):
    def no_process(*args, **kwargs):
        raise AssertionError("a hashing process was started for no source")

    monkeypatch.setattr(prehash.subprocess, "Popen", no_process)
    etags = SourceEtags([], os.environ, StepTimes())
    (tmp_path / "made.css").write_bytes(b"made")
    path = tmp_path / "made.css"
    assert etags.etag(path, 4) == expected_etag(path, 4)


def test_source_etags_name_a_source_that_cannot_be_read(tmp_path, hashing):
    """Root reads mode-000 files, so a folder in the list stands in for an unreadable file."""
    folder = tmp_path / "not-a-file.css"
    folder.mkdir()
    (tmp_path / "staticfiles").mkdir()
    link = tmp_path / "staticfiles" / "not-a-file.css"
    link.symlink_to(folder)
    etags = SourceEtags([folder], os.environ, StepTimes())
    with pytest.raises(
        HerokuifyError, match=f"static file {folder} cannot be read: Is a directory"
    ):
        etags.etag(link, 0)
