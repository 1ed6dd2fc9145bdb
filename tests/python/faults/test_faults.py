"""S3 failing the ways it does in production, during real builds of the compressor sample app.

Builds run through bin/*, after Heroku's own heroku/python, against the session's moto server
behind the fault-injecting proxy (herokuify_dev/faults.py). What must hold:
1. transient faults (500, 503, reset, stall, a body cut short, a multipart upload half accepted)
   cost retries, not the build: the bucket ends up byte for byte like STATIC_ROOT;
2. faults past the retry budget fail the build with one clear line and no traceback, the build
   cache records only what S3 confirmed, and the next build sends exactly what is missing;
3. a build killed mid-upload leaves nothing the next build cannot converge from;
4. two builds of different commits at once both land, in hashed mode;
5. a failed build never changes or deletes the running release's objects.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import hashlib
import io
import json
import math
import os
import re
import shutil
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from herokuify_buildpack.upload.etag import PART_SIZE
from herokuify_dev.faults import ALWAYS, Fault, FaultInjector, Rule, describe
from herokuify_dev.localbuild import build_app, not_pushed
from herokuify_dev.proxy import Handler, running_proxy
from herokuify_dev.transcript import Transcript

FIXTURE = Path(__file__).resolve().parents[3] / "test-fixtures" / "compressor"
RECORDS = "static/.herokuify/releases/"
# Manifests the app reads from the slug at run time; never uploaded.
LOCAL_ONLY = {"staticfiles.json", "CACHE/manifest.json"}
DONE = re.compile(r"Done: (\d+) files? uploaded, (\d+) unchanged")
ERROR = " !     herokuify:"
PLATFORM_ERROR = " !     Push rejected, failed to compile app."
READ_TIMEOUT = 2  # HEROKUIFY_S3_READ_TIMEOUT: a stall costs seconds, not minutes
STALL_SECONDS = 3 * READ_TIMEOUT
BIG_FILE = "shop/video.bin"
BIG_SIZE = 33 * 1024 * 1024  # past PART_SIZE (16 MiB): a multipart upload of 3 parts

# Figures for the issue note, printed when the module ends.
tally: collections.Counter[str] = collections.Counter()
error_lines: list[str] = []
notes: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    yield
    lines = [
        f"S3 fault tests: {tally['scenarios']} scenarios, {tally['faults']} faults injected, "
        f"{tally['objects']} objects compared byte for byte",
        *(f"  {line}" for line in error_lines + notes),
    ]
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            for line in lines:
                reporter.write_line(line)


@pytest.fixture
def build(build):
    """Every build here follows Heroku's own heroku/python (the compressor app pins 3.12), with
    its collectstatic off as the quickstart sets it: run for real on this worker's first build
    of the app's requirements, its result reused by the rest."""
    return functools.partial(build, python="heroku-reused")


@pytest.fixture
def proxy(s3_server):
    with running_proxy(s3_server.endpoint_url) as proxy:
        yield proxy


@pytest.fixture
def faults(proxy):
    injector = FaultInjector(proxy, stall_seconds=STALL_SECONDS)
    yield injector
    tally["faults"] += len(injector.events)


@pytest.fixture
def proxied(config_vars, proxy, upload_client) -> dict[str, str]:
    """Config vars that send the build's S3 requests through the proxy, and its uploads down
    each path in turn."""
    return {
        **config_vars,
        **upload_client,
        "DISABLE_COLLECTSTATIC": "1",
        "AWS_S3_ENDPOINT_URL": proxy.endpoint_url,
        "HEROKUIFY_S3_READ_TIMEOUT": str(READ_TIMEOUT),
    }


def app_copy(dest: Path, files: dict[str, bytes] | None = None) -> Path:
    """A copy of the compressor app with `files` (under its static dir) written or replaced."""
    shutil.copytree(FIXTURE, dest, ignore=not_pushed)
    for name, data in (files or {}).items():
        path = dest / "shop_site" / "static" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return dest


@pytest.fixture(scope="module")
def big_app(tmp_path_factory) -> Path:
    """The compressor app plus one file large enough for a multipart upload."""
    app = tmp_path_factory.mktemp("big-app") / "compressor"
    return app_copy(app, {BIG_FILE: os.urandom(BIG_SIZE)})


def local_files(static_root: Path) -> dict[str, Path]:
    """The objects a build of this STATIC_ROOT must leave in the bucket, by key."""
    names = (path.relative_to(static_root).as_posix() for path in static_root.rglob("*"))
    return {
        f"static/{name}": static_root / name
        for name in names
        if name not in LOCAL_ONLY and (static_root / name).is_file()
    }


def bucket_etags(s3_client, bucket: str) -> dict[str, str]:
    etags = {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            etags[item["Key"]] = item["ETag"].strip('"')
    return etags


def assert_same_bytes(s3_client, bucket: str, files: dict[str, Path]) -> None:
    """Each object downloaded from the bucket equals its local file."""

    def download(key: str) -> bytes:
        return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()

    with ThreadPoolExecutor(8) as pool:
        bodies = dict(zip(files, pool.map(download, files), strict=True))
    different = sorted(key for key, path in files.items() if bodies[key] != path.read_bytes())
    assert not different, f"{len(different)} objects differ from STATIC_ROOT: {different[:5]}"
    tally["objects"] += len(files)


def assert_bucket_mirrors(s3_client, bucket: str, static_root: Path) -> dict[str, Path]:
    """The bucket's assets are exactly STATIC_ROOT's files, byte for byte."""
    local = local_files(static_root)
    held = {key for key in bucket_etags(s3_client, bucket) if not key.startswith(RECORDS)}
    assert held == set(local), (sorted(held - set(local))[:5], sorted(set(local) - held)[:5])
    assert_same_bytes(s3_client, bucket, local)
    return local


def failure_line(result, bucket: str) -> str:
    """The product's one error line; the only other one is the platform's."""
    assert result.returncodes.get("compile") == 1, result.output
    errors = [line for line in result.outputs["compile"].splitlines() if line.startswith(" !")]
    assert len(errors) == 2 and errors[1] == PLATFORM_ERROR, errors
    assert errors[0].startswith(ERROR) and bucket in errors[0], errors[0]
    assert "Traceback" not in result.output
    error_lines.append(errors[0])
    return errors[0]


def cache_entries(cache_dir: Path) -> dict[str, list[str]]:
    """The upload record in CACHE_DIR (there is one per bucket and prefix); must parse."""
    (path,) = (cache_dir / "herokuify").glob("uploads-*.json")
    return json.loads(path.read_text())["entries"]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


# 1. Transient faults ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault", list(Fault), ids=lambda fault: fault.name.lower())
def test_transient_fault_costs_retries_not_the_build(
    build, proxied, faults, s3_client, bucket, fault
):
    """The bucket check, the listing and the first three uploads each fail once: the build
    retries them, succeeds, and every object is byte for byte the collected file."""
    rules = [
        Rule(fault, operation="GetBucketLocation"),
        Rule(fault, operation="ListObjectsV2"),
        Rule(fault, operation="PutObject", times=3),
    ]
    faults.add(*rules)
    result = build("compressor", proxied)
    tally["scenarios"] += 1

    assert result.ok, result.output
    assert [rule.injected for rule in rules] == [1, 1, 3]
    assert faults.injected() == {fault: 5}
    local = assert_bucket_mirrors(s3_client, bucket, result.build_dir / "staticfiles")
    uploaded, unchanged = DONE.search(result.output).groups()
    assert (int(uploaded), int(unchanged)) == (len(local), 0)
    assert len(faults.keys("GetBucketLocation")) == len(faults.keys("ListObjectsV2")) == 2
    # A PUT's answer has no body to cut short, and botocore does not check Content-Length:
    # it takes the answer's ETag header. S3 did store the object, so nothing is sent again. The
    # CRT counts the answer as failed, and sends the file again.
    botocore = proxied["HEROKUIFY_UPLOAD_CLIENT"] == "botocore"
    resent = 0 if fault is Fault.CUT_BODY and botocore else 3
    assert len(faults.keys("PutObject")) == len(local) + resent + 1  # and the release record


@pytest.mark.parametrize("fault", [Fault.INTERNAL_ERROR, Fault.RESET], ids=["500", "reset"])
def test_burst_of_transient_faults_costs_retries_not_the_build(
    build, proxied, faults, s3_client, bucket, fault
):
    """S3 has a bad few seconds: each of the first 60 uploads fails once, and would succeed if
    sent again. More retries than botocore's retry quota allows one client (about 35), so the
    build must not depend on that quota alone: it still succeeds, byte for byte."""
    rule = Rule(fault, operation="PutObject", times=60)
    faults.add(rule)
    result = build("compressor", proxied)
    tally["scenarios"] += 1

    assert result.ok, result.output
    assert rule.injected == 60
    assert_bucket_mirrors(s3_client, bucket, result.build_dir / "staticfiles")


def test_multipart_upload_half_accepted_is_completed(
    build, proxied, faults, s3_client, bucket, big_app
):
    """S3 resets the multipart upload's start, fails parts 2 and up three times, and breaks the
    completion twice (once after completing it): the large file still lands, whole."""
    rules = [
        Rule(Fault.RESET, operation="CreateMultipartUpload"),
        Rule(Fault.INTERNAL_ERROR, operation="UploadPart", min_part=2, times=2),
        Rule(Fault.SLOW_DOWN, operation="UploadPart", min_part=2),
        Rule(Fault.CUT_BODY, operation="CompleteMultipartUpload"),
        Rule(Fault.INTERNAL_ERROR, operation="CompleteMultipartUpload"),
    ]
    faults.add(*rules)
    result = build(big_app, proxied)
    tally["scenarios"] += 1

    assert result.ok, result.output
    assert [rule.injected for rule in rules] == [1, 2, 1, 1, 1]
    parts = math.ceil(BIG_SIZE / PART_SIZE)
    assert len(faults.keys("UploadPart")) == parts + 3
    assert bucket_etags(s3_client, bucket)[f"static/{BIG_FILE}"].endswith(f"-{parts}")
    assert_bucket_mirrors(s3_client, bucket, result.build_dir / "staticfiles")
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


# 2. Persistent faults --------------------------------------------------------------------------


def test_persistent_faults_fail_clearly_and_the_next_build_sends_only_the_rest(
    build, proxied, proxy, faults, s3_client, bucket, big_app
):
    """Uploads of admin/js/* and every part past the first of the large file always get 500.
    The build fails on one line naming the bucket and the error, without a traceback; the cache
    holds exactly the objects S3 has; the multipart upload was aborted. Without the faults, the
    next build with that cache uploads exactly the missing objects and the release record."""
    faults.add(
        Rule(Fault.INTERNAL_ERROR, operation="PutObject", key_contains="admin/js/", times=ALWAYS),
        Rule(Fault.INTERNAL_ERROR, operation="UploadPart", min_part=2, times=ALWAYS),
    )
    failed = build(big_app, proxied)
    tally["scenarios"] += 1

    line = failure_line(failed, bucket)
    assert "InternalError" in line
    local = local_files(failed.build_dir / "staticfiles")
    refused = {key for key in local if "admin/js/" in key} | {f"static/{BIG_FILE}"}
    assert len(refused) > 10
    assert set(faults.keys("PutObject")) >= refused - {f"static/{BIG_FILE}"}
    held = bucket_etags(s3_client, bucket)
    assert set(held) == set(local) - refused  # and no release record
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    entries = cache_entries(failed.cache_dir)
    assert {key: remote for key, (_, remote, _) in entries.items()} == held

    faults.clear()
    faults.reset()
    proxy.reset()
    rebuilt = build(big_app, proxied, cache_dir=failed.cache_dir)

    assert rebuilt.ok, rebuilt.output
    assert DONE.search(rebuilt.output).groups() == (str(len(refused)), str(len(held)))
    (record,) = (key for key in bucket_etags(s3_client, bucket) if key.startswith(RECORDS))
    assert sorted(faults.keys("PutObject")) == sorted(refused - {f"static/{BIG_FILE}"} | {record})
    parts = math.ceil(BIG_SIZE / PART_SIZE)
    assert faults.keys("UploadPart") == [f"static/{BIG_FILE}"] * parts
    assert proxy.counts()["PUT"] == len(refused) - 1 + parts + 1
    assert_bucket_mirrors(s3_client, bucket, rebuilt.build_dir / "staticfiles")
    assert set(cache_entries(rebuilt.cache_dir)) == set(local)


@pytest.mark.parametrize(
    ("fault", "operation", "key_contains"),
    [
        (Fault.RESET, "PutObject", "admin/js/"),
        (Fault.STALL, "PutObject", "xregexp"),
        (Fault.CUT_BODY, "ListObjectsV2", ""),
    ],
    ids=["reset", "stall", "cut-listing"],
)
def test_persistent_fault_is_named_on_one_line(
    build, proxied, faults, bucket, fault, operation, key_contains
):
    """Connections dropped, a silent S3 and a listing always cut short each end the build on
    one line that names the bucket and what went wrong."""
    rule = Rule(fault, operation=operation, key_contains=key_contains, times=ALWAYS)
    faults.add(rule)
    # Every attempt at a stalled upload costs the read timeout plus botocore's 1 s wait for
    # "100 Continue": keep the timeout at its minimum.
    result = build("compressor", {**proxied, "HEROKUIFY_S3_READ_TIMEOUT": "1"})
    tally["scenarios"] += 1

    line = failure_line(result, bucket)
    assert rule.injected > 1  # retried before giving up
    words = {
        Fault.RESET: ("onnection",),
        Fault.STALL: ("imeout", "did not answer"),
        Fault.CUT_BODY: ("listing",),
    }[fault]
    assert any(word in line for word in words), line


# 3. A build killed mid-upload ------------------------------------------------------------------


def compile_pids(build_dir: Path) -> list[int]:
    """The running bin/compile of this build (it execs the helper's Python). Its output masker,
    forked from it, has the same command line: it is told apart as the build's child."""
    needle = str(build_dir).encode()
    parents = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if b"herokuify_buildpack.platforms.classic" in cmdline and needle in cmdline:
            parents[int(proc.name)] = parent
    return [pid for pid, parent in parents.items() if parent not in parents]


def test_build_killed_mid_upload_converges_on_the_next(
    build, proxied, proxy, faults, s3_client, bucket, reused_heroku_python, tmp_path
):
    """SIGKILL while uploads run (slowed to two at a time, 50 ms each): the next build with the
    same cache uploads exactly what is missing or incomplete, and leaves a complete bucket and a
    cache file that parses."""
    proxy.latency = 0.05
    workdir = tmp_path / "killed"
    slow = {**proxied, "HEROKUIFY_UPLOAD_CONCURRENCY": "2"}
    outcome = {}

    def run() -> None:
        outcome["result"] = build_app(
            FIXTURE,
            slow,
            reused_heroku_python,
            workdir=workdir,
            stream=Transcript(io.StringIO()),
        )

    thread = threading.Thread(target=run, daemon=True)  # a failed assert must not hang pytest
    thread.start()
    deadline = time.monotonic() + 120
    while proxy.counts()["PUT"] < 30 and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = compile_pids(workdir / "build")
    assert len(pids) == 1, "compile was not running when the uploads were"
    os.kill(pids[0], signal.SIGKILL)
    thread.join(60)
    killed = outcome["result"]
    tally["scenarios"] += 1

    assert killed.returncodes["compile"] == -signal.SIGKILL
    time.sleep(0.5)  # let the proxy finish relaying what was in flight
    held = bucket_etags(s3_client, bucket)
    local = local_files(killed.build_dir / "staticfiles")
    assert 0 < len(held) < len(local)
    for path in (killed.cache_dir / "herokuify").glob("*"):
        json.loads(path.read_text())  # only whole files, if any
    missing = {key for key, path in local.items() if held.get(key) != md5(path)}
    notes.append(
        f"killed build: {len(held)} of {len(local)} objects in the bucket, "
        f"{len(missing) - (len(local) - len(held))} of them incomplete or wrong"
    )

    proxy.latency = 0
    proxy.reset()
    faults.reset()
    rebuilt = build("compressor", proxied, cache_dir=killed.cache_dir)

    assert rebuilt.ok, rebuilt.output
    (record,) = (key for key in bucket_etags(s3_client, bucket) if key.startswith(RECORDS))
    assert sorted(faults.keys("PutObject")) == sorted(missing | {record})
    # The killed build saved no cache and wrote no record, so nothing says which headers it
    # gave the objects it finished: each gets them again by a copy, without its bytes.
    assert sorted(faults.keys("CopyObject")) == sorted(set(local) - missing)
    assert proxy.counts()["PUT"] == len(local) + 1
    assert DONE.search(rebuilt.output).groups() == (
        str(len(missing)),
        str(len(local) - len(missing)),
    )
    assert_bucket_mirrors(s3_client, bucket, rebuilt.build_dir / "staticfiles")
    assert set(cache_entries(rebuilt.cache_dir)) == set(local)


# 4. Two builds at once -------------------------------------------------------------------------


def release_files(static_root: Path) -> dict[str, Path]:
    """A hashed-mode release's own objects: its hashed names and its compressor bundles."""
    hashed = json.loads((static_root / "staticfiles.json").read_text())["paths"].values()
    names = set(hashed) | {
        path.relative_to(static_root).as_posix() for path in (static_root / "CACHE").rglob("*.*")
    }
    return {f"static/{name}": static_root / name for name in names - LOCAL_ONLY}


class ListingBarrier:
    """Holds each build's bucket listing until every build has asked for one, so the builds
    really overlap: all of them plan their uploads from the same state of the bucket.

    Each build talks to S3 through a proxy of its own, which names it: a listing that botocore
    retries, or that takes more than one request, is still that build's, and counts once."""

    def __init__(self, builds: set[str]) -> None:
        self.builds = builds
        self.listed: set[str] = set()
        self.ready = threading.Event()  # the proxies run event loops of their own

    def handler(self, build: str, inner: Handler) -> Handler:
        async def handle(conn, request) -> bool:
            if describe(request).operation == "ListObjectsV2":
                self.listed.add(build)
                if self.listed >= self.builds:
                    self.ready.set()
                deadline = time.monotonic() + 60
                while not self.ready.is_set() and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
            return await inner(conn, request)

        return handle


def test_two_builds_of_different_commits_at_once_both_land(
    proxied, proxy, s3_server, s3_client, bucket, reused_heroku_python, tmp_path
):
    """Two commits (some files changed, some only in one) built at once into the same bucket,
    each with its own cache, both planning from the same listing: both succeed and every
    hashed file and bundle of both releases is in the bucket, byte for byte."""
    commits = {
        "one": {"shop/base.css": b"body { color: #111; }\n", "shop/only-one.css": b"a{}\n"},
        "two": {"shop/base.css": b"body { color: #222; }\n", "shop/only-two.js": b"var t;\n"},
    }
    barrier = ListingBarrier(set(commits))
    start = threading.Barrier(len(commits))

    def run(name: str, endpoint_url: str):
        app = app_copy(tmp_path / f"app-{name}", commits[name])
        config = {**proxied, "HEROKUIFY_HASHED_NAMES": "1", "AWS_S3_ENDPOINT_URL": endpoint_url}
        start.wait()
        return build_app(
            app,
            config,
            reused_heroku_python,
            workdir=tmp_path / name,
            stream=Transcript(io.StringIO()),
        )

    with running_proxy(s3_server.endpoint_url) as second:
        proxies = dict(zip(commits, (proxy, second), strict=True))
        for name, each in proxies.items():
            each.handler = barrier.handler(name, each.handler)
        with ThreadPoolExecutor(len(commits)) as pool:
            futures = [pool.submit(run, name, proxies[name].endpoint_url) for name in commits]
            results = dict(zip(commits, (future.result() for future in futures), strict=True))
    tally["scenarios"] += 1

    for result in results.values():
        assert result.ok, result.output
    assert barrier.listed == set(commits)
    releases = {name: release_files(r.build_dir / "staticfiles") for name, r in results.items()}
    assert set(releases["one"]) != set(releases["two"])
    assert any("only-one" in key for key in releases["one"])
    assert any("only-two" in key for key in releases["two"])
    held = bucket_etags(s3_client, bucket)
    assert len([key for key in held if key.startswith(RECORDS)]) == 2
    for files in releases.values():
        assert_same_bytes(s3_client, bucket, files)


# 5. A failed build and the running release ------------------------------------------------------


@pytest.mark.parametrize("hashed", [True, False], ids=["hashed", "plain-names"])
def test_failed_build_leaves_the_running_release_alone(
    build, proxied, proxy, faults, s3_client, bucket, tmp_path, hashed
):
    """Release A is live. Build B changes two files, so B has new bundles and, for the same
    names, new content; its bundle uploads always get 500. B fails, and every one of A's objects
    still has A's ETag: nothing was overwritten or deleted."""
    config = {**proxied, "HEROKUIFY_HASHED_NAMES": "1"} if hashed else proxied
    release_a = build("compressor", config)
    assert release_a.ok, release_a.output
    before = bucket_etags(s3_client, bucket)

    proxy.reset()
    changed = {"shop/base.css": b"body { color: #b00; }\n", "shop/cart.js": b"var cart = 2;\n"}
    faults.add(
        Rule(Fault.INTERNAL_ERROR, operation="PutObject", key_contains="CACHE/", times=ALWAYS)
    )
    release_b = build(app_copy(tmp_path / "app-b", changed), config)
    tally["scenarios"] += 1

    failure_line(release_b, bucket)
    assert any("CACHE/" in key for key in faults.keys("PutObject"))
    assert proxy.counts()["DELETE"] == proxy.counts()["POST"] == 0
    after = bucket_etags(s3_client, bucket)
    changed_or_gone = sorted(key for key, etag in before.items() if after.get(key) != etag)
    assert changed_or_gone == []
    assert_same_bytes(s3_client, bucket, local_files(release_a.build_dir / "staticfiles"))
