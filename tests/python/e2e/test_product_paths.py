"""The documented product paths, each built through bin/* against the local S3 server and, where
the path ends in a running app, served from the slug by a dyno.

Each test looks at real outcomes: what is in the bucket, what the build printed, what the dyno's
page links to, and what an anonymous browser gets back from those links.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from html import unescape
from pathlib import Path

import pytest

from herokuify_buildpack import __version__
from herokuify_dev.dyno import asset_urls, running_dyno
from herokuify_dev.proxy import running_proxy

FIXTURES = Path(__file__).resolve().parents[3] / "test-fixtures"
DONE = re.compile(r"^-----> Done: (\d+) files? uploaded, (\d+) unchanged, ", re.MULTILINE)
RECORDS = "static/.herokuify/releases/"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_LIVED = "public, max-age=300"
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
MEDIA_BODY = b"hello from media\n"
# The block the README tells apps that keep their own DJANGO_SETTINGS_MODULE to end with.
OPT_IN_BLOCK = """
try:
    from herokuify_buildpack.settings import apply_storage_settings
except ModuleNotFoundError:  # not on Heroku: keep local storage
    pass
else:
    apply_storage_settings(globals(), app_root=BASE_DIR)
"""


# Helpers -------------------------------------------------------------------------------------


def bucket_keys(s3_client, bucket: str, prefix: str = "") -> set[str]:
    keys = set()
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def static_keys(s3_client, bucket: str) -> set[str]:
    """The asset keys under static/, without the build's release records."""
    return {key for key in bucket_keys(s3_client, bucket, "static/") if not key.startswith(RECORDS)}


def local_files(static_root: Path, local_only: tuple[str, ...] = ()) -> dict[str, Path]:
    files = {
        path.relative_to(static_root).as_posix(): path
        for path in static_root.rglob("*")
        if path.is_file()
    }
    return {name: path for name, path in files.items() if name not in local_only}


def uploaded_counts(output: str) -> tuple[int, int]:
    """(uploaded, unchanged) from the build's last line."""
    found = DONE.findall(output)
    assert len(found) == 1, output
    uploaded, unchanged = found[0]
    return int(uploaded), int(unchanged)


def fetch(url: str) -> tuple[int, bytes, Message]:
    """An anonymous GET, as a browser makes it: status, body and headers (looked up without
    regard to case), for error answers too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def media_link(page: str) -> str:
    found = re.findall(r'<a id="media" href="([^"]+)"', page)
    assert len(found) == 1, page
    return unescape(found[0])


def served_page(build_dir: Path, config_vars: dict[str, str]) -> str:
    with running_dyno(build_dir, config_vars) as dyno:
        return dyno.get("/")


def assert_assets_served(page: str, bucket_url: str) -> list[str]:
    """Every link on the page points into the bucket and answers an anonymous GET with 200."""
    urls = asset_urls(page)
    assert len(urls) >= 4, page
    assert all(url.startswith(bucket_url) for url in urls), urls
    for url in urls:
        status, _, _ = fetch(url)
        assert status == 200, url
    return urls


def assert_links_stay_in_the_slug(static_root: Path, build_dir: Path) -> None:
    """STATIC_ROOT's links are relative and end inside the build, so they resolve wherever the
    slug is unpacked."""
    links = [path for path in static_root.rglob("*") if path.is_symlink()]
    assert links
    for link in links:
        assert not Path(os.readlink(link)).is_absolute(), link
        assert link.resolve(strict=True).is_relative_to(build_dir.resolve()), link


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(" !     ")]


# 1. The basic path on each app layout and Django series ----------------------------------------


@pytest.mark.parametrize(
    ("app", "series", "app_root", "own_files"),
    [
        ("minimal", "3.2", ".", "minimal/"),
        ("minimal", "4.1", ".", "minimal/"),
        ("minimal", "4.2", ".", "minimal/"),
        ("minimal", "5.2", ".", "minimal/"),
        ("minimal", "6", ".", "minimal/"),
        ("subfolder", "5.2", "backend", "subsite/"),
    ],
)
def test_app_is_published_and_served(
    build, config_vars, s3_client, bucket, app, series, app_root, own_files
):
    """STATIC_ROOT lands in the bucket exactly; the dyno's page links there; media are private.

    The subfolder app has manage.py in backend/ and its Procfile runs gunicorn --chdir backend,
    so this also checks that the generated settings module is found from there."""
    result = build(app, config_vars, series=series)
    assert result.ok, result.output
    static_root = result.build_dir / app_root / "staticfiles"
    local = local_files(static_root)
    assert len(local) > 50  # the admin's files and the app's own

    # The bucket holds exactly this build's files, plus one release record.
    assert static_keys(s3_client, bucket) == {f"static/{name}" for name in local}
    assert len(bucket_keys(s3_client, bucket, RECORDS)) == 1
    uploaded, unchanged = uploaded_counts(result.output)
    assert (uploaded, unchanged) == (len(local), 0)
    assert_links_stay_in_the_slug(static_root, result.build_dir)
    spot_checks = [name for name in local if name.startswith(own_files)]
    spot_checks.append("admin/img/icon-yes.svg")
    assert len(spot_checks) >= 5
    for name in spot_checks:
        body = s3_client.get_object(Bucket=bucket, Key=f"static/{name}")["Body"].read()
        assert body == local[name].read_bytes(), name

    page = served_page(result.build_dir, config_vars)
    bucket_url = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/"
    urls = assert_assets_served(page, bucket_url)
    assert f"{bucket_url}static/{own_files}site.css" in urls
    assert f"{bucket_url}static/admin/img/icon-yes.svg" in urls

    # Media: the link the app renders is signed and works; the object itself is private.
    link = media_link(page)
    assert link.startswith(f"{bucket_url}media/uploads/hello.txt?")
    assert fetch(link)[:2] == (200, MEDIA_BODY)
    assert fetch(f"{bucket_url}media/uploads/hello.txt")[0] == 403


# 2. Redeploying the same code ----------------------------------------------------------------


def test_redeploy_without_changes_uploads_nothing(build, config_vars, s3_client, bucket):
    """A second build from a fresh checkout (new mtimes) with the first build's cache sends
    nothing, and django-compressor names its bundles identically: they hash content, not time."""
    first = build("compressor", config_vars)
    assert first.ok, first.output
    uploaded, unchanged = uploaded_counts(first.output)
    assert uploaded > 100 and unchanged == 0
    keys_after_first = bucket_keys(s3_client, bucket)

    second = build("compressor", config_vars, cache_dir=first.cache_dir)
    assert second.ok, second.output
    assert uploaded_counts(second.output) == (0, uploaded)
    assert "-----> Done: 0 files uploaded, " in second.output
    assert f" {uploaded} unchanged, " in second.output

    def bundles(build_dir: Path) -> set[str]:
        cache = build_dir / "staticfiles" / "CACHE"
        return {p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()}

    first_bundles = bundles(first.build_dir)
    assert any(name.startswith("css/") for name in first_bundles), first_bundles
    assert any(name.startswith("js/") for name in first_bundles), first_bundles
    assert bundles(second.build_dir) == first_bundles
    # Same key set: no new release record either.
    assert bucket_keys(s3_client, bucket) == keys_after_first


# 3. heroku/python's own collectstatic ---------------------------------------------------------


# How heroku/python reads its switch (bin/steps/collectstatic): any value but "0" or empty, or
# the deprecated marker file, turns its collectstatic off.
COLLECTSTATIC_SWITCHES = {
    "unset": ({}, None),
    "zero": ({"DISABLE_COLLECTSTATIC": "0"}, None),
    "true": ({"DISABLE_COLLECTSTATIC": "true"}, "(DISABLE_COLLECTSTATIC is set)"),
    "marker-file": ({}, "(.heroku/collectstatic_disabled exists)"),
}


@pytest.mark.parametrize("switch", COLLECTSTATIC_SWITCHES)
def test_heroku_python_collectstatic_never_uploads_twice(
    build, config_vars, s3_server, s3_client, bucket, switch, tmp_path
):
    """After Heroku's own heroku/python, whether or not it runs its collectstatic first, every
    file is PUT once: its run stays on local disk, and the one batch upload sends each file a
    single time, without a HEAD per file. Counted at the wire by a proxy in front of the S3
    server. A cached rebuild with its collectstatic on uploads nothing."""
    extra, skipped_because = COLLECTSTATIC_SWITCHES[switch]
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "compressor", app)
    if switch == "marker-file":
        (app / ".heroku").mkdir()
        (app / ".heroku" / "collectstatic_disabled").touch()
    with running_proxy(s3_server.endpoint_url) as proxy:
        build_vars = {**config_vars, **extra, "AWS_S3_ENDPOINT_URL": proxy.endpoint_url}
        result = build(app, build_vars, python="heroku")
        counts = proxy.counts()
        assert result.ok, result.output

        heroku_python_ran = "$ python manage.py collectstatic --noinput" in result.output
        assert heroku_python_ran is (skipped_because is None)
        if skipped_because is None:
            assert "heroku/python ran its own collectstatic to local disk first" in result.output
        else:
            assert f"heroku/python skipped its collectstatic {skipped_because}" in result.output

        uploaded, unchanged = uploaded_counts(result.output)
        records = bucket_keys(s3_client, bucket, RECORDS)
        assert len(records) == 1
        assert unchanged == 0
        assert uploaded == len(static_keys(s3_client, bucket)) > 100
        assert counts["PUT"] == uploaded + len(records), counts
        assert (counts["HEAD"], counts["DELETE"], counts["POST"]) == (0, 0, 0), counts
        if switch != "unset":
            return
        proxy.reset()
        again = build(app, build_vars, cache_dir=result.cache_dir, python="heroku")
        assert again.ok, again.output
        assert "$ python manage.py collectstatic --noinput" in again.output
        assert "Restoring cache" in again.output  # heroku/python's own, from CACHE_DIR
        assert uploaded_counts(again.output) == (0, uploaded)
        assert proxy.counts()["PUT"] == 0, proxy.counts()


# 4. Switched off -----------------------------------------------------------------------------


def test_disable_skips_everything(build, config_vars, s3_client, bucket):
    """HEROKUIFY_DISABLE=1 makes compile say one line and touch nothing: no upload, no settings
    module, no .profile.d script."""
    result = build("minimal", {**config_vars, "HEROKUIFY_DISABLE": "1"})
    assert result.ok, result.output
    lines = result.outputs["compile"].splitlines()
    assert lines == [
        f"-----> herokuify-buildpack {__version__}: skipped, because HEROKUIFY_DISABLE=1"
    ]
    assert bucket_keys(s3_client, bucket) == set()
    assert not (result.build_dir / "herokuify_settings.py").exists()
    assert not (result.build_dir / ".profile.d" / "herokuify.sh").exists()


# 5. Keeping the app's own settings module ----------------------------------------------------


def test_keep_settings_module_with_the_documented_block(
    build, config_vars, s3_client, bucket, tmp_path
):
    """HEROKUIFY_KEEP_SETTINGS_MODULE=1 with the README's block at the end of settings.py: no
    generated module or profile script, and the dyno, on the app's own settings, links to the
    bucket."""
    app = tmp_path / "apps" / "keep-settings"
    shutil.copytree(FIXTURES / "minimal", app, ignore=shutil.ignore_patterns("__pycache__"))
    settings = app / "minimal_site" / "settings.py"
    settings.write_text(settings.read_text() + OPT_IN_BLOCK)

    result = build(app, {**config_vars, "HEROKUIFY_KEEP_SETTINGS_MODULE": "1"})
    assert result.ok, result.output
    assert "using minimal_site.settings as it is" in result.output
    assert not (result.build_dir / ".profile.d" / "herokuify.sh").exists()
    assert not (result.build_dir / "herokuify_settings.py").exists()
    uploaded, _ = uploaded_counts(result.output)
    assert uploaded == len(static_keys(s3_client, bucket)) > 50

    page = served_page(result.build_dir, config_vars)
    bucket_url = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/"
    urls = assert_assets_served(page, bucket_url)
    assert f"{bucket_url}static/minimal/site.css" in urls


def test_keep_settings_module_without_the_block_fails_clearly(
    build, config_vars, s3_client, bucket
):
    """HEROKUIFY_KEEP_SETTINGS_MODULE=1 on settings that never call apply_storage_settings would
    publish nothing the app links to: the build stops with one line saying what to add."""
    result = build("minimal", {**config_vars, "HEROKUIFY_KEEP_SETTINGS_MODULE": "1"})
    assert not result.ok
    assert result.returncodes["compile"] == 1
    errors = error_lines(result.outputs["compile"])
    ours = [line for line in errors if line.startswith(" !     herokuify: ")]
    assert len(ours) == 1, errors
    assert "apply_storage_settings" in ours[0]
    assert errors == [*ours, " !     Push rejected, failed to compile app."], errors
    assert bucket_keys(s3_client, bucket) == set()


# 6. Bucketeer's config vars ------------------------------------------------------------------


def test_bucketeer_config_vars_alone(build, s3_server, s3_client, bucket, config_vars):
    """The Bucketeer add-on's config vars are enough, at build time and on the dyno."""
    bucketeer = {
        "BUCKETEER_AWS_ACCESS_KEY_ID": config_vars["AWS_ACCESS_KEY_ID"],
        "BUCKETEER_AWS_SECRET_ACCESS_KEY": config_vars["AWS_SECRET_ACCESS_KEY"],
        "BUCKETEER_BUCKET_NAME": bucket,
        "BUCKETEER_AWS_REGION": "us-east-1",
        "AWS_S3_ENDPOINT_URL": s3_server.endpoint_url,
    }
    result = build("minimal", bucketeer)
    assert result.ok, result.output
    local = local_files(result.build_dir / "staticfiles")
    assert static_keys(s3_client, bucket) == {f"static/{name}" for name in local}

    page = served_page(result.build_dir, bucketeer)
    bucket_url = f"{s3_server.endpoint_url}/{bucket}/"
    urls = assert_assets_served(page, bucket_url)
    assert f"{bucket_url}static/minimal/logo.png" in urls
    assert fetch(media_link(page))[:2] == (200, MEDIA_BODY)


# 7. Hashed names -----------------------------------------------------------------------------


@pytest.mark.parametrize("series", ["3.2", "4.2", "5.2", "6"])
def test_hashed_names(build, config_vars, s3_client, bucket, series):
    """HEROKUIFY_HASHED_NAMES=1: the page links to hashed names, served as immutable; the
    manifest stays in the slug; unhashed originals keep a short cache lifetime. On each
    supported Django, since the build's hashed-names storage builds on Django's."""
    result = build("compressor", {**config_vars, "HEROKUIFY_HASHED_NAMES": "1"}, series=series)
    assert result.ok, result.output
    static_root = result.build_dir / "staticfiles"
    manifest = static_root / "staticfiles.json"
    assert manifest.is_file()
    hashed = json.loads(manifest.read_text())["paths"]
    local_only = ("staticfiles.json", "CACHE/manifest.json")
    local = local_files(static_root, local_only)
    keys = static_keys(s3_client, bucket)
    assert keys == {f"static/{name}" for name in local}
    assert "static/staticfiles.json" not in keys
    assert f"static/{hashed['shop/img/logo.png']}" in keys
    # A hashed copy is a link to its source, unless post-processing rewrote it; either way the
    # object holds the same bytes, under the ETag the build computed for it.
    assert (static_root / hashed["shop/img/logo.png"]).is_symlink()
    assert not (static_root / hashed["shop/base.css"]).is_symlink()
    assert_links_stay_in_the_slug(static_root, result.build_dir)
    for name in local:
        held = s3_client.get_object(Bucket=bucket, Key=f"static/{name}")
        body = held["Body"].read()
        assert body == (static_root / name).read_bytes(), name
        assert held["ETag"].strip('"') == hashlib.md5(body).hexdigest(), name

    dyno_vars = {**config_vars, "HEROKUIFY_HASHED_NAMES": "1"}
    page = served_page(result.build_dir, dyno_vars)
    bucket_url = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/"
    urls = assert_assets_served(page, bucket_url)
    static_urls = [url for url in urls if url.startswith(f"{bucket_url}static/")]
    plain = [url for url in static_urls if "/static/CACHE/" not in url]
    bundles = [url for url in static_urls if "/static/CACHE/" in url]
    assert plain and len(bundles) >= 2, urls
    assert f"{bucket_url}static/{hashed['shop/img/logo.png']}" in plain
    for url in plain:
        assert HASHED_NAME.search(urllib.parse.urlsplit(url).path), url
    for url in static_urls:
        status, _, headers = fetch(url)
        assert (status, headers.get("Cache-Control")) == (200, IMMUTABLE), url

    status, body, headers = fetch(f"{bucket_url}static/shop/img/logo.png")
    assert (status, headers.get("Cache-Control")) == (200, SHORT_LIVED)
    assert body == (static_root / "shop" / "img" / "logo.png").read_bytes()


# 8. Public media -----------------------------------------------------------------------------


def test_public_media(build, config_vars, bucket):
    """HEROKUIFY_MEDIA_PUBLIC=1: the media link is a plain URL that anyone can open."""
    public = {**config_vars, "HEROKUIFY_MEDIA_PUBLIC": "1"}
    result = build("minimal", public)
    assert result.ok, result.output
    page = served_page(result.build_dir, public)
    link = media_link(page)
    bucket_url = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/"
    assert link == f"{bucket_url}media/uploads/hello.txt"
    assert fetch(link)[:2] == (200, MEDIA_BODY)


# 9. Hostile config var values ----------------------------------------------------------------

# Appended to a copy of the minimal app's settings: each time the settings load, they record
# what they saw, as bytes, and where they were loaded.
PROBE = """
import json as _json
import sys as _sys

with open(os.environ["PROBE_FILE"], "a") as _probe:
    _seen = {
        name.decode(): value.hex()
        for name, value in os.environb.items()
        if name.startswith(b"HOSTILE_")
    }
    _seen["SECRET_KEY"] = SECRET_KEY.encode("utf-8", "surrogateescape").hex()
    _where = {
        "dyno": bool(os.environ.get("DYNO")),
        "herokuify": "herokuify_buildpack.core" in _sys.modules,
    }
    _probe.write(_json.dumps({**_where, "seen": _seen}) + "\\n")
"""


def test_hostile_config_var_values_arrive_unchanged_and_run_nothing(
    build, config_vars, s3_client, bucket, tmp_path
):
    """Quotes, spaces, command substitution, backticks, newlines, a leading dash and bytes that
    are not UTF-8 reach the app's settings byte for byte, in herokuify's build step and on the
    dyno, and no shell ever runs them. Heroku's own heroku/python runs first: its collectstatic
    reads each value through $(cat FILE), which drops trailing newlines, and nothing more."""
    markers = tmp_path / "markers"
    markers.mkdir()
    probe_file = tmp_path / "probe.jsonl"
    hostile: dict[str, bytes] = {
        "SECRET_KEY": (
            f"-k 'it''s' \"quoted\" $(touch {markers}/a) `touch {markers}/b`; touch {markers}/c"
            "\nsecond line"
        ).encode(),
        "HOSTILE_SUBST": f"$(touch {markers}/d)".encode(),
        "HOSTILE_BACKTICKS": f"`touch {markers}/e`".encode(),
        "HOSTILE_NEWLINES": f"\nexport HOSTILE_SUBST=x\ntouch {markers}/f\n".encode(),
        "HOSTILE_DASH": b"--help",
        "HOSTILE_SPACES": b"  two  leading and trailing  ",
        "HOSTILE_BYTES": b"\xff\xfe caf\xe9 \x80 done",
        "HOSTILE_QUOTES": b"'\"'\"'; \\\" $HOME ${PATH}",
    }
    app = tmp_path / "apps" / "probe"
    shutil.copytree(FIXTURES / "minimal", app, ignore=shutil.ignore_patterns("__pycache__"))
    settings = app / "minimal_site" / "settings.py"
    settings.write_text(settings.read_text() + PROBE)

    build_vars = {**config_vars, **hostile, "PROBE_FILE": str(probe_file)}
    result = build(app, build_vars, series="5.2", python="heroku")
    assert result.ok, result.output
    assert uploaded_counts(result.output)[0] == len(static_keys(s3_client, bucket)) > 50

    # The dyno gets the same config vars; its environment takes str, so bytes that are not
    # UTF-8 travel as surrogate escapes, which encode back to the same bytes.
    dyno_vars = {
        name: value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
        for name, value in build_vars.items()
    }
    page = served_page(result.build_dir, dyno_vars)
    assert_assets_served(page, f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/")

    assert list(markers.iterdir()) == []
    exact = {name: value.hex() for name, value in hostile.items()}
    through_cat = {name: value.rstrip(b"\n").hex() for name, value in hostile.items()}
    loads = {
        (load["dyno"], load["herokuify"]): load["seen"]
        for load in map(json.loads, probe_file.read_text().splitlines())
    }
    assert loads == {
        (False, False): through_cat,  # heroku/python's collectstatic
        (False, True): exact,  # herokuify's compile
        (True, False): exact,  # the dyno
    }


# 10. The app's own static choices ------------------------------------------------------------
# An app whose static storage hashes names keeps them (HEROKUIFY_HASHED_NAMES=0 turns them off),
# a WhiteNoise app works unchanged, and django-compressor's filters stay the app's. Where the
# buildpack replaces a choice, or follows one past its defaults, the log says so in one line.

MANIFEST_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
WHITENOISE_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def hashed_on_line(backend: str) -> str:
    return (
        f"       Hashed names on: the app's static storage {backend} hashes names "
        "(HEROKUIFY_HASHED_NAMES=0 turns them off)\n"
    )


def app_with_settings(tmp_path: Path, fixture: str, package: str, extra: str) -> Path:
    """A copy of a fixture app whose settings end with ``extra``."""
    app = tmp_path / "apps" / fixture
    shutil.copytree(FIXTURES / fixture, app, ignore=shutil.ignore_patterns("__pycache__"))
    settings = app / package / "settings.py"
    settings.write_text(settings.read_text() + extra)
    return app


def manifest_app(tmp_path: Path, legacy: bool = False) -> Path:
    """The minimal app with ManifestStaticFilesStorage, in STORAGES or (legacy) the name that
    Django before 4.2 reads."""
    storages = (
        f'STATICFILES_STORAGE = "{MANIFEST_STORAGE}"\n'
        if legacy
        else f'STORAGES = {{"staticfiles": {{"BACKEND": "{MANIFEST_STORAGE}"}}}}\n'
    )
    return app_with_settings(tmp_path, "minimal", "minimal_site", storages)


@pytest.mark.parametrize(("series", "legacy"), [("5.2", False), ("3.2", True)])
def test_an_app_with_manifest_storage_keeps_hashed_names(
    build, config_vars, s3_client, bucket, tmp_path, series, legacy
):
    """ManifestStaticFilesStorage in the app's STORAGES, or in STATICFILES_STORAGE on Django
    3.2: hashed names without the config var, in the bucket, and one line in the log that says
    why and how to turn them off. After Heroku's own heroku/python."""
    result = build(manifest_app(tmp_path, legacy), config_vars, series=series, python="heroku")
    assert result.ok, result.output
    assert result.output.count(hashed_on_line(MANIFEST_STORAGE)) == 1, result.output
    manifest = result.build_dir / "staticfiles" / "staticfiles.json"
    assert manifest.is_file()
    hashed = json.loads(manifest.read_text())["paths"]["minimal/site.css"]
    assert HASHED_NAME.search(hashed), hashed
    keys = static_keys(s3_client, bucket)
    assert f"static/{hashed}" in keys
    assert "static/staticfiles.json" not in keys


def test_hashed_names_0_turns_the_apps_hashed_names_off(
    build, config_vars, s3_client, bucket, tmp_path
):
    off = {**config_vars, "HEROKUIFY_HASHED_NAMES": "0"}
    result = build(manifest_app(tmp_path), off)
    assert result.ok, result.output
    assert (
        "       Hashed names off: HEROKUIFY_HASHED_NAMES=0, though the app's static storage "
        f"{MANIFEST_STORAGE} hashes names\n"
    ) in result.output
    static_root = result.build_dir / "staticfiles"
    assert not (static_root / "staticfiles.json").exists()
    keys = static_keys(s3_client, bucket)
    assert keys == {f"static/{name}" for name in local_files(static_root)}
    assert "static/minimal/site.css" in keys
    assert not [key for key in keys if HASHED_NAME.search(key)], keys


# The static names the minimal app's page links to.
MINIMAL_PAGE_STATIC = (
    "minimal/site.css",
    "minimal/logo.png",
    "admin/img/icon-yes.svg",
    "minimal/site.js",
)


@pytest.mark.parametrize(
    ("app_hashes", "dyno_switch"), [(True, "0"), (False, "1")], ids=["hashed-build", "plain-build"]
)
def test_dynos_follow_the_build_after_a_config_set_without_rebuild(
    build, config_vars, bucket, tmp_path, app_hashes, dyno_switch
):
    """`heroku config:set HEROKUIFY_HASHED_NAMES=...` restarts dynos on the same slug. They keep
    the build's choice: hashed names where the build hashed them, plain names where it did not,
    each linked name in the bucket. A dyno that followed the var would link to plain names after
    a hashed build, or fail every {% static %} with no manifest in the slug."""
    app = manifest_app(tmp_path) if app_hashes else FIXTURES / "minimal"
    result = build(app, config_vars)
    assert result.ok, result.output
    manifest = result.build_dir / "staticfiles" / "staticfiles.json"
    assert manifest.is_file() is app_hashes
    names = json.loads(manifest.read_text())["paths"] if app_hashes else {}

    page = served_page(result.build_dir, {**config_vars, "HEROKUIFY_HASHED_NAMES": dyno_switch})
    bucket_url = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/"
    urls = assert_assets_served(page, bucket_url)  # every link answers 200
    static_urls = [url for url in urls if url.startswith(f"{bucket_url}static/")]
    assert sorted(static_urls) == sorted(
        f"{bucket_url}static/{names.get(name, name)}" for name in MINIMAL_PAGE_STATIC
    ), page
    for url in static_urls:
        hashed = HASHED_NAME.search(urllib.parse.urlsplit(url).path) is not None
        assert hashed is app_hashes, url


def test_a_whitenoise_app_works_unchanged(build, config_vars, s3_client, bucket):
    """The app as WhiteNoise's documentation sets it up, middleware and all: its storage's
    choice of hashed names is kept, and the dyno, with WhiteNoise's middleware running beside
    an absolute STATIC_URL, links to hashed names in the bucket, served as immutable. After
    Heroku's own heroku/python."""
    result = build("whitenoise", config_vars, series="5.2", python="heroku")
    assert result.ok, result.output
    assert result.output.count(hashed_on_line(WHITENOISE_STORAGE)) == 1, result.output
    static_root = result.build_dir / "staticfiles"
    hashed = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    keys = static_keys(s3_client, bucket)
    assert f"static/{hashed['blog/site.css']}" in keys
    assert f"static/{hashed['admin/img/icon-yes.svg']}" in keys

    bucket_url = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/static/"
    with running_dyno(result.build_dir, config_vars) as dyno:
        page = dyno.get("/")
        # The middleware is on: it serves the slug's copy at the path of the absolute
        # STATIC_URL, where no page links.
        from_slug = fetch(f"{dyno.url}{urllib.parse.urlsplit(bucket_url).path}blog/site.css")
        log = dyno.log()
    assert from_slug[:2] == (200, (static_root / "blog" / "site.css").read_bytes())
    static_urls = [url for url in asset_urls(page) if "/media/" not in url]
    assert len(static_urls) == 4, page
    assert f"{bucket_url}{hashed['blog/site.css']}" in static_urls
    for url in static_urls:
        assert url.startswith(bucket_url), url
        assert HASHED_NAME.search(urllib.parse.urlsplit(url).path), url
        status, _, headers = fetch(url)
        assert (status, headers.get("Cache-Control")) == (200, IMMUTABLE), url
    assert "Traceback" not in log, log


# The compressor fixture, with a storage and filters of its own: a data-URI filter between the
# default absolute-URL and minifying ones, which reads images from local disk at build.
COMPRESSOR_CHOICES = """
COMPRESS_STORAGE = "compressor.storage.GzipCompressorFileStorage"
COMPRESS_FILTERS = {
    "css": [
        "compressor.filters.css_default.CssAbsoluteFilter",
        "compressor.filters.datauri.CssDataUriFilter",
        "compressor.filters.cssmin.rCSSMinFilter",
    ],
    "js": ["compressor.filters.jsmin.rJSMinFilter"],
}
"""


def test_compressor_filters_are_kept_and_a_replaced_storage_is_named(
    build, config_vars, s3_client, bucket, tmp_path
):
    app = app_with_settings(tmp_path, "compressor", "shop_site", COMPRESSOR_CHOICES)
    result = build(app, config_vars)
    assert result.ok, result.output
    replaced = [line for line in result.output.splitlines() if "COMPRESS_STORAGE" in line]
    assert replaced == [
        "       django-compressor: the app's COMPRESS_STORAGE "
        "compressor.storage.GzipCompressorFileStorage is replaced: bundles are written to local "
        "disk at build and read from the bucket on dynos"
    ], result.output

    css = [key for key in static_keys(s3_client, bucket) if re.match(r"static/CACHE/css/", key)]
    assert css, static_keys(s3_client, bucket)
    bodies = [s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in css]
    bundle = next(body for body in bodies if b"font-family" in body)
    assert b'url("data:image/png;base64,' in bundle  # the app's own filter
    assert b"\n  " not in bundle  # minified


def test_compressor_output_in_static_root_itself(build, config_vars, s3_client, bucket, tmp_path):
    """COMPRESS_OUTPUT_DIR = "": bundles land in css/ and js/ of STATIC_ROOT, beside collected
    files. Only the bundles are immutable, and the offline manifest stays in the slug."""
    app = app_with_settings(tmp_path, "compressor", "shop_site", 'COMPRESS_OUTPUT_DIR = ""\n')
    result = build(app, config_vars)
    assert result.ok, result.output
    keys = static_keys(s3_client, bucket)
    assert "static/manifest.json" not in keys
    assert (result.build_dir / "staticfiles" / "manifest.json").is_file()
    bundles = {
        key for key in keys if re.fullmatch(r"static/(css|js)/(?:.+\.)?[0-9a-f]{12}\.\1", key)
    }
    assert len(bundles) >= 2, keys
    for key in keys:
        cache_control = s3_client.head_object(Bucket=bucket, Key=key)["CacheControl"]
        assert cache_control == (IMMUTABLE if key in bundles else SHORT_LIVED), key
