"""Publishes a collected STATIC_ROOT to the bucket: list once, upload what differs, give new
headers to what only needs them, remember."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from herokuify_buildpack import errors, output, steptimes
from herokuify_buildpack.assets.collected import StaticSource
from herokuify_buildpack.bucket import aclrefusal, pruning, releases
from herokuify_buildpack.bucket.cuts import ListingCuts
from herokuify_buildpack.bucket.lister import BucketAnswers
from herokuify_buildpack.bucket.listing import RemoteObject, list_prefix
from herokuify_buildpack.bucket.publicread import PublicReadCheck
from herokuify_buildpack.bucket.rules import FONT_SUFFIXES
from herokuify_buildpack.config import S3Config, UploadSettings
from herokuify_buildpack.steptimes import StepTimes
from herokuify_buildpack.upload.cache import UploadCache
from herokuify_buildpack.upload.localfiles import LocalFile, scan
from herokuify_buildpack.upload.plan import KnownHeaders, UploadPlan, plan_uploads


@dataclass(frozen=True)
class PublishResult:
    uploaded: int
    unchanged: int  # bytes unchanged, headers_updated of them given new headers
    headers_updated: int
    bytes_uploaded: int
    release_record: str  # the record in the bucket that names every key and its headers


def destination(s3: S3Config, settings: UploadSettings) -> str:
    """What decides where the files go and which URLs and headers they get: the store, bucket
    and prefix, the public URL, the ACL and max-age settings. The same destination and the same
    files make the same release record."""
    parts = (s3.cache_key(s3.static_prefix), s3.public_url(s3.static_prefix))
    parts += (f"acl={s3.static_acl}", f"max-age={settings.max_age}")
    return " ".join(parts)


def publish_static(
    answers: BucketAnswers,
    s3: S3Config,
    source: StaticSource,
    cache_dir: Path,
    settings: UploadSettings,
    times: StepTimes,
    build_started: float,
) -> PublishResult:
    """Upload what the bucket's listing shows missing or different. ``build_started``: when
    the build's process began, on the monotonic clock. ``times`` gets the upload, the listing
    and the wait for it, and the record."""
    with times.step(steptimes.UPLOAD):
        cache_key = s3.cache_key(s3.static_prefix)
        cache = UploadCache.load(cache_dir, cache_key)
        problem = cache.problem or ListingCuts.read(cache_dir, cache_key)[1]
        if problem:
            output.info(f"Ignoring the build cache in CACHE_DIR ({problem}): this build is slower")

        prefix = s3.static_prefix
        with times.step(steptimes.LISTING_WAIT):
            facts = answers.bucket_facts()
        files = scan(
            source.root,
            prefix,
            immutable=source.immutable,
            local_only=source.local_only,
            max_age=settings.max_age,
            acl=facts.static_acl,
            etag_of=source.etag_of,
            pending_links=source.pending_links,
        )
        with times.step(steptimes.LISTING_WAIT):
            remote = answers.listing()
        if answers.listed_in is not None:
            times.add(steptimes.LISTING, answers.listed_in)
        if s3.static_acl is None and aclrefusal.noted(prefix, remote):
            files = [file.without_acl() for file in files]
        release = {file.key: file.headers_tag for file in files}
        client = _client_when_needed(s3, settings)
        intent = None
        if settings.prune:
            # The lister began shortly before this process did; a minute covers its start.
            listed_within = timedelta(seconds=time.monotonic() - build_started + 60)
            with times.step(steptimes.RECORD):
                remote, intent = _rely_on_listing(
                    client, s3, release, remote, listed_within, settings
                )
        # Whether the newest release record is this build's: then its headers need no reading,
        # and no record needs writing.
        recorded = releases.is_recorded(prefix, release, remote)
        known = KnownHeaders(
            cache,
            newest_is_this_release=recorded,
            read_newest_record=lambda: _newest_record(client, s3, remote),
        )
        plan = plan_uploads(files, remote, known)
        stale = len(plan.stale_headers)
        output.info(
            f"{output.counted(len(files), 'file')}: {len(plan.new)} new, "
            f"{len(plan.changed)} changed, "
            + (f"{stale} unchanged but for their headers, " if stale else "")
            + f"{len(plan.unchanged)} unchanged (skipped)"
        )
        # The cache describes this build's files only, so it does not grow with every release.
        cache.keep_only(release.keys())
        for file in plan.unchanged:
            cache.record(file, remote[file.key].etag)

        # Asked of an object already in place at once, else of the first one sent, once it is.
        public_read = PublicReadCheck(s3, client)
        if plan.unchanged:
            public_read.start(plan.unchanged[0].name)
        unwritten: list[str] = []
        try:
            uploaded = _upload(client, s3, plan, cache, settings)
        finally:
            _save(lambda: cache.save(cache_key), unwritten)  # what S3 confirmed, even on failure
        sent = plan.uploads + plan.stale_headers
        if uploaded.acl_refused:
            # The release names the headers each object was given. The note makes later builds plan
            # without the ACL, so they find these objects current.
            release.update((file.key, file.headers_tag) for file in uploaded.given)
            recorded = releases.is_recorded(prefix, release, remote)
            with _explaining(s3, "noting that the store refuses ACLs"):
                aclrefusal.note(client(), s3.bucket, prefix)
        if sent and not plan.unchanged:
            public_read.start(sent[0].name)
        # Before any prune: with another app under this prefix, its files are not ours to delete.
        app = settings.app_name
        shared = _mark_the_prefix(client, s3, remote, app, times) if app else False
        record = _finish_release(
            client, s3, release, recorded, remote, settings, intent, shared, times
        )
        # What the bucket now holds, near enough: pruned objects only make a range a little short.
        cuts = ListingCuts.of(remote.keys() | release.keys())
        _save(lambda: cuts.save(cache_dir, cache_key), unwritten)
        problem = public_read.problem()
        if problem:
            output.warning(f"herokuify: {problem}")
        # Pages on other origins need a CORS rule to load web fonts; the bucket check asked.
        fonts = any(name.endswith(FONT_SUFFIXES) for name in release)
        if fonts and not facts.fonts_allowed:
            output.warning(f"herokuify: {errors.FONTS_WITHOUT_CORS(bucket=s3.bucket)}")
        return PublishResult(
            len(plan.uploads), len(plan.unchanged) + stale, stale, uploaded.bytes_sent, record
        )


def _save(write: Callable[[], None], failed: list[str]) -> None:
    """A cache that cannot be written costs the next build's speed, never this build. One
    line says so, however many of its files fail."""
    try:
        write()
    except OSError as exc:
        if not failed:
            output.info(
                f"Could not write the build cache in CACHE_DIR ({exc.strerror or exc}): "
                "the next build is slower"
            )
        failed.append(str(exc))


@contextmanager
def _explaining(s3: S3Config, doing: str) -> Iterator[None]:
    """S3's refusals inside become catalogued errors, saying what the build was ``doing``."""
    try:
        yield
    except Exception as exc:
        # Imported only here: botocore is slow to import, and a redeploy may never need it.
        from herokuify_buildpack.bucket.client import explain

        raise explain(exc, s3, doing) from exc


def _client_when_needed(s3: S3Config, settings: UploadSettings) -> Callable[[], Any]:
    """The build's own S3 client, made on first use: botocore is slow to import and set up,
    and a redeploy that uploads nothing never sends a request itself."""

    @functools.cache
    def client() -> Any:
        from herokuify_buildpack.bucket.client import make_client

        return make_client(s3, settings.concurrency, settings.read_timeout)

    return client


def _rely_on_listing(
    client: Callable[[], Any],
    s3: S3Config,
    release: dict[str, str],
    remote: dict[str, RemoteObject],
    listed_within: timedelta,
    settings: UploadSettings,
) -> tuple[dict[str, RemoteObject], str]:
    """Announce the keys this build relies on to concurrent prunes, and list again if one may
    have deleted some of them since the lister's listing (see bucket/pruning.py)."""

    def relist() -> dict[str, RemoteObject]:
        cuts = ListingCuts.of(remote.keys())
        return list_prefix(client(), s3.bucket, s3.static_prefix, cuts, settings.concurrency)

    with _explaining(s3, "announcing this release to concurrent prunes"):
        return pruning.rely_on_listing(
            client(),
            s3.bucket,
            s3.static_prefix,
            release.keys(),
            remote,
            listed_within,
            relist,
            on_wait=lambda: output.info("Waiting for another build's prune to end"),
        )


def _newest_record(
    client: Callable[[], Any], s3: S3Config, remote: dict[str, RemoteObject]
) -> dict[str, str]:
    """The headers the newest release record names for each of its keys; none without one."""
    newest = releases.newest_record(s3.static_prefix, remote)
    if newest is None:
        return {}
    with _explaining(s3, "reading the newest release record"):
        return releases.recorded_headers(client(), s3.bucket, newest)


@dataclass(frozen=True)
class _Sent:
    bytes_sent: int
    acl_refused: bool  # so the files went without it
    given: list[LocalFile]  # each file sent, with the headers its object was given


def _upload(
    client: Callable[[], Any],
    s3: S3Config,
    plan: UploadPlan,
    cache: UploadCache,
    settings: UploadSettings,
) -> _Sent:
    """Send the planned uploads and header updates, and record in the cache what S3 confirmed."""
    if not plan.uploads and not plan.stale_headers:
        return _Sent(0, False, [])
    # Imported only here: s3transfer and awscrt are slow to import, and an unchanged redeploy
    # sends nothing.
    from herokuify_buildpack.upload import sending, transfer

    def tick(done: int, total: int, sent: int) -> None:
        output.info(
            f"Uploaded {done} of {output.counted(total, 'file')} ({sent / 1_048_576:.1f} MB)"
        )

    def copy(files: list[LocalFile]) -> transfer.TransferReport:
        return transfer.copy_headers(client(), s3.bucket, files, settings.concurrency)

    # HEROKUIFY_STATIC_ACL's ACL is the user's to give up, not the build's.
    with transfer.AclDrop(client(), allowed=s3.static_acl is None) as acl:
        send = sending.sender(client(), s3, settings, acl, on_tick=tick)
        # New names first, the overwrites (of bytes or of headers) only once every new name is
        # in: a build that fails before then has changed no object the running release serves.
        report = acl.again(send(plan.new), send)
        held_back = plan.changed + plan.stale_headers if report.failed else []
        if plan.changed and not held_back:
            report.merge(acl.again(send(plan.changed), send))
        if plan.stale_headers and not held_back:
            report.merge(acl.again(copy(plan.stale_headers), copy))
    if acl.dropped:
        output.info(
            f"The store refused the {acl.refused_acl} ACL: static files go without one from now "
            "on (HEROKUIFY_STATIC_ACL=none skips asking the bucket)"
        )
    given = [acl.given(file) for file in plan.uploads + plan.stale_headers]
    sent = {file.key: file for file in given}
    for key, remote_etag in report.confirmed.items():
        cache.record(sent[key], remote_etag)
    if not report.failed:
        return _Sent(report.bytes_sent, acl.dropped, given)

    from herokuify_buildpack.bucket.client import explain

    file, exc = report.failed[0]
    doing = "giving new headers to" if file in plan.stale_headers else "uploading"
    cause = explain(exc, s3, f"{doing} {file.name}")
    raise errors.UPLOADS_FAILED(
        failed=len(report.failed),
        tried=len(sent) - len(held_back),
        cause=cause,
        held_back=_held_back(len(held_back)),
    ) from exc


def _held_back(count: int) -> str:
    if not count:
        return ""
    return f" {output.counted(count, 'changed file')} {'was' if count == 1 else 'were'} held back."


def _mark_the_prefix(
    client: Callable[[], Any],
    s3: S3Config,
    remote: dict[str, RemoteObject],
    app: str,
    times: StepTimes,
) -> bool:
    """This app's mark under its prefix, written once; and one line if another app's is there
    (then True). Marks are bookkeeping, which pruning never deletes."""
    prefix = s3.static_prefix
    others = releases.other_apps(prefix, remote, app)
    if others:
        named = releases.other_apps_named(others)
        output.warning(f"herokuify: {errors.PREFIX_SHARED(**named, where=s3.describe(prefix))}")
    if f"{releases.apps_prefix(prefix)}{app}" not in remote:
        with times.step(steptimes.RECORD), _explaining(s3, "marking the prefix as this app's"):
            releases.mark_app(client(), s3.bucket, prefix, app)
    return bool(others)


def _finish_release(
    client: Callable[[], Any],
    s3: S3Config,
    release: dict[str, str],
    recorded: bool,
    remote: dict[str, RemoteObject],
    settings: UploadSettings,
    intent: str | None,
    shared: bool,
    times: StepTimes,
) -> str:
    """Record this release's keys and headers, unless the newest record is already theirs, then
    prune old assets if the app opted in and no other app shares the prefix; the record's key."""
    prefix = s3.static_prefix
    with _explaining(s3, "recording the release"):
        if recorded:
            record = releases.newest_record(prefix, remote)
            assert record is not None  # recorded: the newest record is this release's
        else:
            with times.step(steptimes.RECORD):
                record = releases.record_release(client(), s3.bucket, prefix, release)
            later = ", for pruning later" if settings.prune else ""
            output.info(f"Recorded this release's files{later}")
        if intent is None:
            return record
        keep = settings.keep_releases
        with times.step(steptimes.RECORD):
            pruned = (
                None
                if shared
                else pruning.prune(client(), s3.bucket, s3.static_prefix, remote, release, keep)
            )
            # The release record now keeps these keys, for as long as it is among the last kept.
            client().delete_object(Bucket=s3.bucket, Key=intent)
    if pruned is None:
        output.info("Not pruning: another app publishes under this prefix (see above)")
        return record
    if pruned.kept_releases < keep:
        output.info(f"Pruning waits for {keep} recorded releases; {pruned.kept_releases} so far")
        return record
    output.info(
        f"Pruned {output.counted(pruned.deleted, 'object')} that none of the last {keep} "
        "releases use"
    )
    if not pruned.finished:
        output.info("This prune ran out of its time; the next deploy deletes the rest")
    return record
