"""Both paths an upload can take (upload/sending.py): awscrt's S3 client, and s3transfer on
botocore. Each store profile and each fault runs on both, in this process, through the test
proxy in front of the real moto server; the builds in e2e/test_stores.py and
faults/test_faults.py run them end to end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from herokuify_buildpack.bucket.client import explain
from herokuify_buildpack.bucket.client import make_client as build_client
from herokuify_buildpack.config import S3Config, UploadSettings
from herokuify_buildpack.upload import crtputs, sending, transfer
from herokuify_buildpack.upload.localfiles import scan
from herokuify_dev.faults import ALWAYS, Fault, FaultInjector, Rule
from herokuify_dev.proxy import running_proxy
from herokuify_dev.stores import CHECKSUM_HEADERS, PROFILES, StoreProfile

PATHS = ["crt", "botocore"]
READ_TIMEOUT = 1
FILES = 24


@pytest.fixture
def proxy(s3_server):
    with running_proxy(s3_server.endpoint_url) as proxy:
        yield proxy


def files_in(root: Path, acl: str | None = "public-read"):
    for n in range(FILES):
        path = root / f"css/site-{n:02}.css"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(200 + n))
    return scan(root, "static", immutable=frozenset(), local_only=frozenset(), max_age=300, acl=acl)


def send_all(config_vars, proxy, path: str, files, *, acl_allowed: bool = True):
    """What publish does with new files: send them, and once more without the ACL those the
    store refused for it. Returns the report, the AclDrop and the S3Config."""
    env = {
        **config_vars,
        "AWS_S3_ENDPOINT_URL": proxy.endpoint_url,
        "HEROKUIFY_UPLOAD_CLIENT": path,
        "HEROKUIFY_UPLOAD_CONCURRENCY": "4",
        "HEROKUIFY_S3_READ_TIMEOUT": str(READ_TIMEOUT),
    }
    s3, settings = S3Config.from_env(env), UploadSettings.from_env(env)
    client = build_client(s3, settings.concurrency, settings.read_timeout)
    with transfer.AclDrop(client, allowed=acl_allowed) as acl:
        send = sending.sender(client, s3, settings, acl, on_tick=lambda *_: None)
        report = acl.again(send(files), send)
    return report, acl, s3


def stored(s3_client, bucket: str, key: str):
    return s3_client.get_object(Bucket=bucket, Key=key)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("store", sorted(PROFILES))
def test_each_store_takes_the_uploads(tmp_path, config_vars, bucket, s3_client, proxy, store, path):
    """One PUT a file, with no checksum header where an endpoint is set (stores refuse them);
    where the store refuses the ACL, at most one refusal per request in flight, and the files
    go again without it. Every object holds the file's bytes and headers."""
    profile = StoreProfile.named(store, proxy)
    files = files_in(tmp_path)
    report, acl, _ = send_all(config_vars, proxy, path, files)

    assert report.failed == []
    assert report.confirmed == {file.key: file.etag for file in files}
    refusals = {refusal.code for _, refusal in profile.refused}
    assert refusals <= {"AccessControlListNotSupported", "NotImplemented"}, profile.refused
    assert len(profile.refused) <= 4
    assert acl.dropped == bool(profile.refused)
    assert proxy.counts()["PUT"] == FILES + len(profile.refused)
    for file in files:
        answer = stored(s3_client, bucket, file.key)
        assert answer["Body"].read() == file.path.read_bytes()
        assert (answer["ContentType"], answer["CacheControl"]) == ("text/css", file.cache_control)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("checksums", ["", "when_supported"], ids=["endpoint", "as-on-aws"])
def test_a_checksum_goes_only_where_the_store_is_aws(
    tmp_path, config_vars, bucket, s3_client, proxy, path, checksums
):
    """No checksum header to a store at an endpoint, where many refuse them; on AWS (here
    forced with HEROKUIFY_S3_CHECKSUMS), botocore's CRC32, which S3 checks."""
    headers: list[str] = []

    async def note(conn, request):
        if request.method == "PUT":
            headers.extend(name.lower() for name, _ in request.headers)
        return await proxy.forward(conn, request)

    proxy.handler = note
    files = files_in(tmp_path, acl=None)
    config = {**config_vars, "HEROKUIFY_S3_CHECKSUMS": checksums} if checksums else config_vars
    report, _, _ = send_all(config, proxy, path, files)
    assert report.failed == []
    sent = {name for name in headers if name.startswith(CHECKSUM_HEADERS)}
    assert ("x-amz-checksum-crc32" in sent) if checksums else not sent, sent
    assert "x-amz-acl" not in headers
    for file in files:
        assert stored(s3_client, bucket, file.key)["Body"].read() == file.path.read_bytes()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fault", list(Fault), ids=lambda fault: fault.name.lower())
def test_a_transient_fault_costs_a_retry(
    tmp_path, config_vars, bucket, s3_client, proxy, fault, path
):
    """The first three PUTs fail once each: the files still land, each confirmed."""
    faults = FaultInjector(proxy, stall_seconds=3 * READ_TIMEOUT)
    rule = Rule(fault, operation="PutObject", times=3)
    faults.add(rule)
    files = files_in(tmp_path)
    report, _, _ = send_all(config_vars, proxy, path, files)

    assert rule.injected == 3
    assert report.failed == []
    assert report.confirmed == {file.key: file.etag for file in files}
    # botocore takes a PUT's ETag header from an answer whose body is cut short; the CRT
    # counts the answer as failed and sends the file again.
    resent = 0 if (fault is Fault.CUT_BODY and path == "botocore") else 3
    assert len(faults.keys("PutObject")) == FILES + resent
    for file in files:
        assert stored(s3_client, bucket, file.key)["Body"].read() == file.path.read_bytes()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault.INTERNAL_ERROR, "S3 answered 500 InternalError while uploading"),
        (Fault.RESET, "the connection to S3 at"),
        (Fault.STALL, "S3 did not answer while uploading"),
    ],
    ids=["500", "reset", "stall"],
)
def test_a_persistent_fault_fails_that_file_only_and_is_named(
    tmp_path, config_vars, proxy, fault, words, path
):
    """Every attempt at one file fails: after the retries, that file is reported failed with
    the catalogued line, and the rest are confirmed."""
    # The CRT has no read timeout: a stall ends in a reset, and is retried, until the CRT path
    # gives up on the request as a whole (crtputs.py).
    faults = FaultInjector(proxy, stall_seconds=8)
    files = files_in(tmp_path)
    doomed = files[5]
    rule = Rule(fault, operation="PutObject", key_contains=doomed.name, times=ALWAYS)
    faults.add(rule)
    report, _, s3 = send_all(config_vars, proxy, path, files)

    assert rule.injected > 1  # retried before giving up
    [(failed, exc)] = report.failed
    assert failed == doomed
    assert set(report.confirmed) == {file.key for file in files} - {doomed.key}
    line = str(explain(exc, s3, f"uploading {doomed.name}"))
    assert line.startswith(words), line
    assert s3.secret_key not in line


def test_without_awscrt_crt_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(crtputs, "installed", lambda: False)
    settings = UploadSettings.from_env({"HEROKUIFY_UPLOAD_CLIENT": "crt"})
    with pytest.raises(Exception, match=r"^HEROKUIFY_UPLOAD_CLIENT=crt, but the app does not"):
        crtputs.chosen(settings)
