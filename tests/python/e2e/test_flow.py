"""Heroku Flow: the slug moves without a build. A pipeline promotes staging's slug to
production, `heroku rollback` brings back an old slug, `heroku config:set` restarts dynos on the
same slug, people debug in one-off dynos, apps share a bucket. Heroku runs the Procfile's release
process in a one-off dyno for each such release; here it runs in the slug at a private /app
with the release's config vars, as `run_one_off` runs any one-off dyno.

Heroku's "Avoid Using Asset Sync" lists how asset uploaders break in these flows; each of its
points has a test here:
- re-running the asset step in a one-off dyno, after editing a stylesheet, must not change what
  production serves (test_a_one_off_dyno_s_collectstatic_changes_nothing);
- nor may it delete the files production's fingerprints point to (the same, hashed names);
- reading the manifest from the bucket ties a restart to the bucket's state at that moment:
  here dynos read it from their slug (test_a_restart_links_the_slug_s_own_names);
- a CDN in front of the assets (test_private_media_stay_signed_behind_a_cdn_domain);
- and the user report it cites: production's stylesheets loaded fonts from staging's bucket
  after a promotion (test_a_promoted_slug_serves_everything_from_production_s_bucket).
"""

from __future__ import annotations

import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from bench.run import step_times
from herokuify_buildpack import steptimes
from herokuify_buildpack.releasephase import RELEASE_COMMAND
from herokuify_dev.aging import Aging
from herokuify_dev.dyno import asset_urls, run_one_off, running_dyno
from herokuify_dev.proxy import running_proxy

FIXTURES = Path(__file__).resolve().parents[3] / "test-fixtures"
RECORDS = "/.herokuify/releases/"
CSS_URL = re.compile(rb"url\(\s*['\"]?([^'\")]+)")
# An app's own choice of django-compressor's filters, with the absolute-URL one in it.
ABSOLUTE_FILTERS = """
COMPRESS_FILTERS = {
    "css": ["compressor.filters.css_default.CssAbsoluteFilter"],
    "js": ["compressor.filters.jsmin.rJSMinFilter"],
}
"""


def keys(s3_client, bucket: str, prefix: str = "") -> dict[str, str]:
    """Every key under ``prefix``, with its ETag."""
    found = {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.update({item["Key"]: item["ETag"] for item in page.get("Contents", [])})
    return found


def empty(s3_client, bucket: str) -> None:
    for key in keys(s3_client, bucket):
        s3_client.delete_object(Bucket=bucket, Key=key)


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def release_phase(build_dir: Path, config_vars: dict[str, str]):
    return run_one_off(build_dir, config_vars, RELEASE_COMMAND)


def served_assets(build_dir: Path, config_vars: dict[str, str]) -> dict[str, int]:
    """What a browser fetches from the page a web dyno serves: each asset it links, and each
    url() in its stylesheets, with the status each answers."""
    with running_dyno(build_dir, config_vars) as dyno:
        page = dyno.get("/")
    seen: dict[str, int] = {}
    pending = asset_urls(page)
    while pending:
        url = pending.pop()
        if url in seen or url.startswith("data:"):
            continue
        status, body = fetch(url)
        seen[url] = status
        if url.split("?")[0].endswith(".css") and status == 200:
            pending += [urllib.parse.urljoin(url, ref.decode()) for ref in CSS_URL.findall(body)]
    return seen


def app_with(tmp_path: Path, settings_lines: str) -> Path:
    app = tmp_path / "app" / "compressor"
    shutil.copytree(FIXTURES / "compressor", app, ignore=shutil.ignore_patterns("__pycache__"))
    settings = app / "shop_site" / "settings.py"
    settings.write_text(settings.read_text() + settings_lines)
    return app


# 1. Promotion ------------------------------------------------------------------------------


@pytest.mark.parametrize("filters", ["default", "the-app-s-absolute"])
def test_a_promoted_slug_serves_everything_from_production_s_bucket(
    build, config_vars, s3_server, s3_client, tmp_path, filters
):
    """Staging's slug, released with production's config vars: the release phase publishes it
    to production's bucket. Staging's bucket is emptied before the page is fetched: every asset
    and every url() in its stylesheets answers 200, and none names staging's bucket, whether the
    bundles were built with relative URLs (the default) or the app's own CssAbsoluteFilter."""
    staging, production = (f"{name}-{uuid.uuid4().hex[:12]}" for name in ("staging", "production"))
    for name in (staging, production):
        s3_server.create_bucket(name)
    app = FIXTURES / "compressor" if filters == "default" else app_with(tmp_path, ABSOLUTE_FILTERS)
    staging_vars = {**config_vars, "AWS_STORAGE_BUCKET_NAME": staging}
    production_vars = {**config_vars, "AWS_STORAGE_BUCKET_NAME": production}
    built = build(app, staging_vars, python="heroku")
    assert built.ok, built.output

    released = release_phase(built.build_dir, production_vars)
    assert released.returncode == 0, released.stdout + released.stderr
    assert f"publishing this slug's static files to s3://{production}/static/" in released.stdout
    if filters != "default":
        assert "files named " in released.stdout  # the bundles the app's filter baked
    empty(s3_client, staging)

    served = served_assets(built.build_dir, production_vars)
    assert len(served) >= 5, served
    assert any("/CACHE/css/" in url for url in served)
    assert any(url.split("?")[0].endswith(".png") for url in served), served  # from the CSS
    assert all(status == 200 for status in served.values()), served
    assert not [url for url in served if f"/{staging}/" in url], served


# 2. The ordinary path -----------------------------------------------------------------------


def test_after_a_build_the_release_phase_checks_in_one_request(build, config_vars, s3_server):
    """The release that a push makes: its build published to this bucket already, so the
    release phase asks one listing of the release records, and sends nothing."""
    with running_proxy(s3_server.endpoint_url) as proxy:
        proxied = {**config_vars, "AWS_S3_ENDPOINT_URL": proxy.endpoint_url}
        built = build("compressor", proxied)
        assert built.ok, built.output
        proxy.reset()
        released = release_phase(built.build_dir, proxied)
        counts = proxy.counts()
    assert released.returncode == 0, released.stdout + released.stderr
    assert "the build published this slug to" in released.stdout
    assert "Steps:" not in released.stdout  # it published nothing, so it timed no steps
    assert sum(counts.values()) == counts["LIST"] == 1, counts


def test_a_config_change_that_changes_headers_republishes(build, config_vars, s3_client, bucket):
    """`heroku config:set HEROKUIFY_STATIC_MAX_AGE=60` makes a release of the same slug: the
    release phase gives the objects their new headers, without their bytes."""
    built = build("compressor", config_vars)
    assert built.ok, built.output
    released = release_phase(built.build_dir, {**config_vars, "HEROKUIFY_STATIC_MAX_AGE": "60"})
    assert released.returncode == 0, released.stdout + released.stderr
    assert "0 files uploaded" in released.stdout
    # Its steps, in one line before its summary: new headers make a new release record.
    lines = released.stdout.splitlines()
    assert lines[-1].startswith("-----> herokuify release: 0 files uploaded"), lines[-1]
    assert lines[-2].startswith("       Steps: "), lines[-2]
    ran = [steptimes.LISTING, steptimes.LISTING_WAIT, steptimes.UPLOAD, steptimes.RECORD]
    assert list(step_times(released.stdout)) == ran, lines[-2]
    head = s3_client.head_object(Bucket=bucket, Key="static/shop/base.css")
    assert head["CacheControl"] == "public, max-age=60"


# 3. Rollback past pruning -------------------------------------------------------------------


@pytest.fixture
def pruning(config_vars, s3_server):
    """(aging, config vars): pruning with one release kept, through a proxy whose listings show
    objects as old as ``aging`` makes them (herokuify_dev/aging.py)."""
    aging = Aging()
    with running_proxy(s3_server.endpoint_url) as proxy:
        proxy.rewrite_listing = aging.rewrite
        yield (
            aging,
            {
                **config_vars,
                "AWS_S3_ENDPOINT_URL": proxy.endpoint_url,
                "HEROKUIFY_PRUNE": "1",
                "HEROKUIFY_KEEP_RELEASES": "1",
            },
        )


def test_a_rollback_past_pruning_restores_from_the_slug(config_vars, pruning, build, tmp_path):
    """v1, v2 and v3 with HEROKUIFY_KEEP_RELEASES=1, each older than pruning's grace by the
    time the next deploys: v3's build prunes what only v1 used. The release phase of a rollback
    to v1 puts it back from v1's slug, and v1's page loads whole."""
    aging, pruned = pruning
    slugs = {}
    for version in ("v1", "v2", "v3"):
        app = app_with(tmp_path / version, f"\n# {version}\n")
        (app / "shop_site" / "static" / "shop" / "base.css").write_text(
            f'body {{ color: #{version[1] * 3}; background: url("img/bg.png"); }}\n'
        )
        built = build(app, pruned)
        assert built.ok, built.output
        slugs[version] = built.build_dir
        aging.age_existing(by=timedelta(hours=2))
    assert "Pruned " in built.output
    direct = {**pruned, "AWS_S3_ENDPOINT_URL": config_vars["AWS_S3_ENDPOINT_URL"]}
    before = served_assets(slugs["v1"], direct)
    assert 404 in before.values(), before  # v1's bundle went with the prune

    released = release_phase(slugs["v1"], pruned)
    assert released.returncode == 0, released.stdout + released.stderr
    assert re.search(r"\d+ files? uploaded", released.stdout), released.stdout
    after = served_assets(slugs["v1"], direct)
    assert all(status == 200 for status in after.values()), after


# 4. Apps sharing a bucket -------------------------------------------------------------------


def test_apps_with_their_own_prefixes_never_touch_each_other(
    build, config_vars, pruning, s3_client, bucket, tmp_path
):
    """Staging and production in one bucket, each under its own HEROKUIFY_PREFIX, both pruning
    with one release kept: staging's builds and prunes leave production's objects as they were,
    release records included, and production's page loads whole."""
    aging, shared = pruning
    production = build("compressor", {**shared, "HEROKUIFY_PREFIX": "shop-production"})
    assert production.ok, production.output
    held = keys(s3_client, bucket, "shop-production/")
    assert "shop-production/static/shop/base.css" in held
    assert any(RECORDS in key for key in held)
    aging.age_existing(by=timedelta(hours=2))
    for number in (1, 2):
        app = app_with(tmp_path / f"staging-{number}", "")
        (app / "shop_site" / "static" / "shop" / "base.css").write_text(f"a {{ z: {number} }}")
        staging = build(app, {**shared, "HEROKUIFY_PREFIX": "shop-staging"})
        assert staging.ok, staging.output
        aging.age_existing(by=timedelta(hours=2))
    assert re.search(r"Pruned [1-9]\d* objects?", staging.output), staging.output
    assert keys(s3_client, bucket, "shop-production/") == held
    assert not [key for key in keys(s3_client, bucket) if not key.startswith("shop-")]
    direct = {**config_vars, "HEROKUIFY_PREFIX": "shop-production"}
    served = served_assets(production.build_dir, direct)
    assert all("/shop-production/static/" in url for url in served if "/static/" in url)
    assert all(status == 200 for status in served.values()), served


def test_an_app_is_told_when_another_publishes_under_its_prefix(
    build, config_vars, s3_client, bucket
):
    """Where Heroku's dyno metadata names the app, each marks the prefix it publishes under;
    the second app under the same prefix is warned in one line, and one under its own is not."""
    warning = "also publishes under"
    first = build("minimal", {**config_vars, "HEROKU_APP_NAME": "shop-production"})
    assert first.ok and warning not in first.output, first.output
    pruning = {"HEROKUIFY_PRUNE": "1", "HEROKUIFY_KEEP_RELEASES": "1"}
    shared = build("minimal", {**config_vars, **pruning, "HEROKU_APP_NAME": "shop-staging"})
    assert shared.ok, shared.output
    said = [line for line in shared.output.splitlines() if warning in line]
    assert len(said) == 1 and said[0].startswith(" !     herokuify: shop-production also"), said
    assert "Give each app its own HEROKUIFY_PREFIX" in shared.output
    # The other app's files are not this app's to prune.
    assert "Not pruning: another app publishes under this prefix" in shared.output
    assert "Pruned" not in shared.output
    own = {**config_vars, "HEROKU_APP_NAME": "shop-review", "HEROKUIFY_PREFIX": "shop-review"}
    alone = build("minimal", own)
    assert alone.ok and warning not in alone.output, alone.output
    marks = keys(s3_client, bucket, "static/.herokuify/apps/")
    assert set(marks) == {f"static/.herokuify/apps/shop-{app}" for app in ("production", "staging")}


def test_delete_prefix_deletes_one_app_s_files_and_refuses_the_bucket_s_root(
    build, config_vars, s3_client, bucket
):
    """app.json's pr-predestroy script, in a review app: its prefix goes, the rest stays; with
    no HEROKUIFY_PREFIX, the command deletes nothing and says why."""
    command = "python -m herokuify_buildpack delete-prefix"
    apps = {name: {**config_vars, "HEROKUIFY_PREFIX": name} for name in ("pr-7", "pr-8")}
    built = {name: build("minimal", config) for name, config in apps.items()}
    assert all(result.ok for result in built.values())
    held = keys(s3_client, bucket, "pr-8/")
    # Someone else's object beside pr-7's folders: not the app's, so it stays.
    s3_client.put_object(Bucket=bucket, Key="pr-7/notes/keep.txt", Body=b"mine")
    deleted = run_one_off(built["pr-7"].build_dir, apps["pr-7"], command)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert f"deleted {len(held)} objects under s3://{bucket}/pr-7/" in deleted.stdout
    assert list(keys(s3_client, bucket, "pr-7/")) == ["pr-7/notes/keep.txt"]
    assert keys(s3_client, bucket, "pr-8/") == held

    # A prefix another app marks as its own too: deleting it would delete that app's files.
    marked = {**apps["pr-8"], "HEROKU_APP_NAME": "pr-8-app"}
    assert build("minimal", {**apps["pr-8"], "HEROKU_APP_NAME": "pr-8-twin"}).ok
    shared = run_one_off(built["pr-8"].build_dir, marked, command)
    assert shared.returncode == 1
    assert "pr-8-twin also publishes under" in shared.stdout + shared.stderr
    assert set(keys(s3_client, bucket, "pr-8/")) >= set(held)
    held = keys(s3_client, bucket, "pr-8/")  # now with the twin's release record and mark

    refused = run_one_off(built["pr-8"].build_dir, config_vars, command)
    assert refused.returncode == 1
    assert "HEROKUIFY_PREFIX is not set" in refused.stdout + refused.stderr
    assert keys(s3_client, bucket, "pr-8/") == held


# 5. One-off dynos ---------------------------------------------------------------------------


@pytest.mark.parametrize("hashed", [False, True], ids=["plain-names", "hashed-names"])
def test_a_one_off_dyno_s_collectstatic_changes_nothing(
    build, config_vars, s3_client, bucket, hashed
):
    """The article's scenario: `heroku run bash`, append a rule to a stylesheet, run
    collectstatic. It stops in one line before it writes anything: the source keeps its edit,
    and every object in the bucket is as the build left it."""
    extra = {"HEROKUIFY_HASHED_NAMES": "1"} if hashed else {}
    built = build("compressor", {**config_vars, **extra})
    assert built.ok, built.output
    before = keys(s3_client, bucket)
    source = "shop_site/static/shop/base.css"
    edited = (built.build_dir / source).read_bytes() + b"body { background-color: red }\n"
    # collectstatic skips a file whose copy in the bucket is no older than it, to the second: the
    # edit comes, as a person's would, after the second of the last upload.
    uploaded = s3_client.head_object(Bucket=bucket, Key="static/shop/base.css")["LastModified"]
    time.sleep(max(0.0, uploaded.timestamp() + 1 - time.time()))
    done = run_one_off(
        built.build_dir,
        config_vars,
        f"echo 'body {{ background-color: red }}' >> {source} && "
        "python manage.py collectstatic --noinput",
    )
    assert done.returncode != 0
    said = [line for line in done.stderr.splitlines() if "herokuify:" in line]
    assert len(said) == 1 and "a dyno does not change static/ objects" in said[0], done.stderr
    assert "Traceback" not in done.stderr
    assert (built.build_dir / source).read_bytes() == edited  # written through no link
    assert keys(s3_client, bucket) == before


def test_a_restart_links_the_slug_s_own_names(build, config_vars, s3_client, bucket, tmp_path):
    """Dynos read hashed names from their slug, never from the bucket: after a later build
    published other names to the same bucket, a restart of the earlier release still links its
    own, each in the bucket."""
    hashed = {**config_vars, "HEROKUIFY_HASHED_NAMES": "1"}
    first = build("compressor", hashed)
    later = app_with(tmp_path, "")
    (later / "shop_site" / "static" / "shop" / "base.css").write_text("body { color: blue }\n")
    second = build(later, hashed)
    assert first.ok and second.ok
    served = served_assets(first.build_dir, hashed)
    static = [url.split("?")[0] for url in served if "/static/" in url]
    assert len(static) >= 4, served
    for root in (first.build_dir, second.build_dir):
        assert (root / "staticfiles" / "staticfiles.json").is_file()
    mine = {url.split("/static/", 1)[1] for url in static}
    assert all((first.build_dir / "staticfiles" / name).exists() for name in mine), mine
    assert not all((second.build_dir / "staticfiles" / name).exists() for name in mine), mine
    assert all(status == 200 for status in served.values()), served


# 6. A CDN in front of the bucket ------------------------------------------------------------


def test_private_media_stay_signed_behind_a_cdn_domain(build, config_vars, bucket):
    """With AWS_S3_CUSTOM_DOMAIN, static URLs name the CDN; media stay private, on URLs the
    bucket signs, which the bucket answers. HEROKUIFY_MEDIA_PUBLIC=1 puts media on the CDN."""
    cdn = {**config_vars, "AWS_S3_CUSTOM_DOMAIN": "cdn.example.com"}
    built = build("compressor", cdn)
    assert built.ok, built.output
    code = (
        "import django; django.setup()\n"
        "from django.core.files.base import ContentFile\n"
        "from django.core.files.storage import default_storage as media\n"
        "from django.conf import settings\n"
        "name = media.save('uploads/private.txt', ContentFile(b'private'))\n"
        "print(settings.STATIC_URL); print(media.url(name))"
    )
    for public in ("0", "1"):
        done = run_one_off(
            built.build_dir, {**cdn, "HEROKUIFY_MEDIA_PUBLIC": public}, f'python -c "{code}"'
        )
        assert done.returncode == 0, done.stderr
        static_url, media_url = done.stdout.split()
        assert static_url == "https://cdn.example.com/static/"
        if public == "1":
            assert media_url.startswith("https://cdn.example.com/media/uploads/"), media_url
            continue
        bucket_url = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/media/uploads/"
        assert media_url.startswith(bucket_url) and "Signature=" in media_url, media_url
        assert fetch(media_url) == (200, b"private")


def test_a_custom_domain_set_after_the_build_reaches_the_bundles_at_the_release_phase(
    build, config_vars, s3_client, bucket, tmp_path
):
    """`heroku config:set AWS_S3_CUSTOM_DOMAIN=…` makes a release of the same slug. Bundles
    that the app's own CssAbsoluteFilter baked with the bucket's URL are sent again naming the
    CDN's, so no stylesheet keeps pointing at the bucket's host."""
    built = build(app_with(tmp_path, ABSOLUTE_FILTERS), config_vars)
    assert built.ok, built.output

    def stylesheets() -> list[bytes]:
        found = keys(s3_client, bucket, "static/CACHE/css/")
        return [s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in found]

    bucket_url = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/static/".encode()
    assert any(bucket_url in body for body in stylesheets())  # the build's own, as baked
    cdn = {**config_vars, "AWS_S3_CUSTOM_DOMAIN": "cdn.example.com"}
    released = release_phase(built.build_dir, cdn)
    assert released.returncode == 0, released.stdout + released.stderr
    assert "files named " in released.stdout, released.stdout
    bodies = stylesheets()
    assert any(b"https://cdn.example.com/static/" in body for body in bodies), bodies
    assert not [body for body in bodies if bucket_url in body]


# 7. doctor in a slug ------------------------------------------------------------------------


def test_doctor_in_a_slug_names_what_its_release_lacks(build, config_vars, s3_client, bucket):
    built = build("compressor", config_vars)
    assert built.ok, built.output
    doctor = "python -m herokuify_buildpack doctor"
    whole = run_one_off(built.build_dir, config_vars, doctor)
    assert "ok   release: all " in whole.stdout, whole.stdout + whole.stderr
    s3_client.delete_object(Bucket=bucket, Key="static/shop/base.css")
    lacking = run_one_off(built.build_dir, config_vars, doctor)
    assert lacking.returncode == 1
    assert "FAIL release: 1 of this slug's" in lacking.stdout
    assert "static/shop/base.css" in lacking.stdout
    assert f"fix: Run the release phase: {RELEASE_COMMAND}" in lacking.stdout
