"""The storage classes of herokuify_buildpack/storage.py, used by real Django against moto.

Django settings are configured once per process, so every scenario runs in a subprocess: the
stand-in venv's Python (Django, django-storages, django-compressor, boto3) with a copy of the
compressor sample app and a settings module written for the scenario. Steps run either as
manage.py commands or through driver.py, which prints each step's result as JSON; the bucket is
then checked from here with boto3 and plain HTTP.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from herokuify_buildpack.config import BUILDING_MARKER
from herokuify_dev.containercreds import serving_container_role
from herokuify_dev.proxy import recording_signed_requests, running_proxy
from herokuify_dev.stores import StoreProfile

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "test-fixtures"
DRIVER = Path(__file__).resolve().parent / "driver.py"
PKG = "herokuify_buildpack.storage"


@dataclass
class Project:
    """A copy of the compressor app, a settings module, and the Python that runs them: the
    stand-in's install of heroku/python's runtime, with the app's packages."""

    python: Path
    app_dir: Path
    settings_dir: Path
    home: Path

    @property
    def static_root(self) -> Path:
        return self.app_dir / "staticfiles"  # shop_site's STATIC_ROOT

    @property
    def site_packages(self) -> Path:
        return next(self.python.parent.parent.glob("lib/python*/site-packages"))

    def env(self, config_vars: dict[str, str]) -> dict[str, str]:
        """Only what the process needs, so no AWS_* of the test run leaks in."""
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            # Heroku's runtime finds libpython only through it, as its export file sets it.
            "LD_LIBRARY_PATH": str(self.python.parent.parent / "lib"),
            "PYTHONPATH": os.pathsep.join(map(str, (REPO, self.settings_dir, self.app_dir))),
            "DJANGO_SETTINGS_MODULE": "scenario_settings",
            **config_vars,
        }

    def run(self, args: list[str], config_vars: dict[str, str]) -> str:
        done = subprocess.run(
            [str(self.python), *args],
            cwd=self.app_dir,
            env=self.env(config_vars),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def manage(self, config_vars: dict[str, str], *args: str) -> str:
        return self.run(["manage.py", *args], config_vars)

    def drive(self, config_vars: dict[str, str], *steps: dict) -> list:
        """Run driver.py's steps in one process; returns their results."""
        out = self.run([str(DRIVER), json.dumps(steps)], config_vars)
        return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def project(tmp_path, standins):
    """project(settings_lines, series="5.2") -> Project, with the lines after
    `from shop_site.settings import *` in its settings module."""

    def make(settings_lines: str, series: str = "5.2") -> Project:
        installed = standins("compressor", series).installed()
        root = tmp_path / f"project-{uuid.uuid4().hex[:6]}"
        app_dir = root / "app"
        shutil.copytree(FIXTURES / "compressor", app_dir)
        settings_dir = root / "settings"
        settings_dir.mkdir()
        (settings_dir / "scenario_settings.py").write_text(
            "from shop_site.settings import *  # noqa: F403\n\n" + settings_lines + "\n"
        )
        home = root / "home"
        home.mkdir()
        return Project(installed / "bin" / "python", app_dir, settings_dir, home)

    return make


def bucket_objects(s3_client, bucket: str, prefix: str = "") -> dict[str, dict]:
    objects = {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            objects[item["Key"]] = item
    return objects


def body(s3_client, bucket: str, key: str) -> bytes:
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()


def anonymous_get(url: str) -> tuple[int, bytes]:
    """Status and body of an unsigned GET, as a browser would make it."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def source_files(project: Project) -> dict[str, Path]:
    """Every file collectstatic finds for the app: its own static dir and the admin's."""
    roots = [
        project.app_dir / "shop_site" / "static",
        project.site_packages / "django" / "contrib" / "admin" / "static",
    ]
    return {
        path.relative_to(root).as_posix(): path
        for root in roots
        for path in root.rglob("*")
        if path.is_file()
    }


def seed_settings(style: str, static_url: str) -> str:
    """The README's settings for using the classes without the buildpack, named the legacy way
    or through STORAGES, plus STATIC_URL on the bucket: django-compressor only compresses
    {% static %} URLs that start with COMPRESS_URL (STATIC_URL by default), and the storage's
    url() is on the bucket."""
    if style == "legacy":
        names = f"""
STATICFILES_STORAGE = "{PKG}.CachedS3StaticStorage"
DEFAULT_FILE_STORAGE = "{PKG}.S3MediaStorage"
"""
    else:
        names = f"""
STORAGES = {{
    "default": {{"BACKEND": "{PKG}.S3MediaStorage"}},
    "staticfiles": {{"BACKEND": "{PKG}.CachedS3StaticStorage"}},
    "compressor": {{"BACKEND": "{PKG}.CachedS3StaticStorage"}},
}}
"""
    return (
        names
        + f"""
COMPRESS_STORAGE = "{PKG}.CachedS3StaticStorage"
COMPRESS_OFFLINE = True
STATIC_URL = "{static_url}"
"""
    )


@pytest.mark.parametrize(
    ("series", "style"),
    [("3.2", "legacy"), ("4.2", "legacy"), ("5.2", "STORAGES")],
    ids=["3.2-legacy-names", "4.2-legacy-names", "5.2-STORAGES"],
)
def test_seed_workflow_collectstatic_and_compress(
    project, config_vars, s3_client, bucket, series, style
):
    """The documented seed workflow (collectstatic, then compress --force) with the classes
    named in settings: every static file reaches static/ byte for byte, the compressor bundles
    are both in the bucket and in the local STATIC_ROOT, and objects are publicly readable."""
    endpoint = config_vars["AWS_S3_ENDPOINT_URL"]
    app = project(seed_settings(style, f"{endpoint}/{bucket}/static/"), series)
    assert app.drive(config_vars, {"op": "class", "storage": "staticfiles"}) == [
        f"{PKG}.CachedS3StaticStorage"
    ]
    app.manage(config_vars, "collectstatic", "--noinput")
    app.manage(config_vars, "compress", "--force")

    objects = bucket_objects(s3_client, bucket)
    assert all(key.startswith("static/") for key in objects), sorted(objects)
    sources = source_files(app)
    assert "shop/base.css" in sources and "admin/css/base.css" in sources
    collected = {key for key in objects if not key.startswith("static/CACHE/")}
    assert collected == {f"static/{name}" for name in sources}
    for name, path in sources.items():
        assert body(s3_client, bucket, f"static/{name}") == path.read_bytes(), name
        assert (app.static_root / name).read_bytes() == path.read_bytes(), name

    bundles = sorted(
        key.removeprefix("static/") for key in objects if key.startswith("static/CACHE/")
    )
    assert any(name.startswith("CACHE/css/") and name.endswith(".css") for name in bundles)
    assert any(name.startswith("CACHE/js/") and name.endswith(".js") for name in bundles)
    offline_manifest = (app.static_root / "CACHE" / "manifest.json").read_text()
    for name in bundles:
        local = app.static_root / name
        assert local.read_bytes() == body(s3_client, bucket, f"static/{name}"), name
        assert name in offline_manifest, name

    for name in ("shop/base.css", bundles[0]):
        status, content = anonymous_get(f"{endpoint}/{bucket}/static/{name}")
        assert status == 200, name
        assert content == (app.static_root / name).read_bytes()


def test_gzip_keeps_the_local_copy_plain(project, config_vars, s3_client, bucket):
    """With AWS_IS_GZIPPED, the S3 object is gzipped but the local copy in STATIC_ROOT, which
    django-compressor reads, keeps the source bytes (never gzipped, never empty)."""
    app = project(
        f'STORAGES = {{"staticfiles": {{"BACKEND": "{PKG}.CachedS3StaticStorage"}}}}\n'
        "AWS_IS_GZIPPED = True"
    )
    sources = {
        name: app.app_dir / "shop_site" / "static" / name
        for name in ("shop/base.css", "shop/cart.js")
    }
    steps = [
        {"op": "save", "storage": "staticfiles", "name": name, "source": str(path)}
        for name, path in sources.items()
    ]
    assert app.drive(config_vars, *steps) == list(sources)

    for name, path in sources.items():
        source = path.read_bytes()
        assert source
        assert (app.static_root / name).read_bytes() == source, name
        obj = s3_client.get_object(Bucket=bucket, Key=f"static/{name}")
        assert obj["ContentEncoding"] == "gzip", name
        stored = obj["Body"].read()
        assert stored != source
        assert gzip.decompress(stored) == source, name


def test_media_urls_are_signed_unless_media_is_public(project, config_vars, bucket):
    """S3MediaStorage keeps uploads private behind signed URLs; HEROKUIFY_MEDIA_PUBLIC=1 makes
    them public with plain URLs."""
    app = project(f'STORAGES = {{"default": {{"BACKEND": "{PKG}.S3MediaStorage"}}}}')
    plain_base = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/media"

    name, url = app.drive(
        config_vars,
        {"op": "save", "storage": "default", "name": "uploads/private.txt", "text": "secret\n"},
        {"op": "url", "storage": "default", "name": "uploads/private.txt"},
    )
    assert name == "uploads/private.txt"
    assert url.startswith(f"{plain_base}/uploads/private.txt?")
    assert "Signature=" in url
    assert anonymous_get(url) == (200, b"secret\n")
    assert anonymous_get(f"{plain_base}/uploads/private.txt")[0] == 403

    public_vars = {**config_vars, "HEROKUIFY_MEDIA_PUBLIC": "1"}
    name, url = app.drive(
        public_vars,
        {"op": "save", "storage": "default", "name": "uploads/public.txt", "text": "hello\n"},
        {"op": "url", "storage": "default", "name": "uploads/public.txt"},
    )
    assert url == f"{plain_base}/uploads/public.txt"
    assert anonymous_get(url) == (200, b"hello\n")


def test_static_url_on_a_custom_domain(project, config_vars):
    """AWS_S3_CUSTOM_DOMAIN given as a URL with scheme and slash still yields clean URLs."""
    app = project(f'STORAGES = {{"staticfiles": {{"BACKEND": "{PKG}.S3StaticStorage"}}}}')
    cdn_vars = {**config_vars, "AWS_S3_CUSTOM_DOMAIN": "https://cdn.example.com/"}
    assert app.drive(
        cdn_vars, {"op": "url", "storage": "staticfiles", "name": "shop/base.css"}
    ) == ["https://cdn.example.com/static/shop/base.css"]


def test_bucketeer_config_vars_alone(project, s3_server, s3_client, tmp_path):
    """With only the Bucketeer add-on's variables (plus the endpoint), S3StaticStorage signs
    with Bucketeer's key and region and saves to Bucketeer's bucket."""
    bucket = f"bucketeer-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(bucket, region="eu-west-1")
    app = project(f'STORAGES = {{"staticfiles": {{"BACKEND": "{PKG}.S3StaticStorage"}}}}')
    source = app.app_dir / "shop_site" / "static" / "shop" / "base.css"
    signed_with = []

    with running_proxy(s3_server.endpoint_url) as proxy:

        async def note_credentials(conn, request):
            signed_with.append(request.header("authorization") or "")
            return await proxy.forward(conn, request)

        proxy.handler = note_credentials
        bucketeer_vars = {
            "BUCKETEER_AWS_ACCESS_KEY_ID": "AKIABUCKETEER0000001",
            "BUCKETEER_AWS_SECRET_ACCESS_KEY": "bucketeer-secret",
            "BUCKETEER_BUCKET_NAME": bucket,
            "BUCKETEER_AWS_REGION": "eu-west-1",
            "AWS_S3_ENDPOINT_URL": proxy.endpoint_url,
        }
        saved = app.drive(
            bucketeer_vars,
            {
                "op": "save",
                "storage": "staticfiles",
                "name": "shop/base.css",
                "source": str(source),
            },
        )
    assert saved == ["shop/base.css"]
    assert body(s3_client, bucket, "static/shop/base.css") == source.read_bytes()
    assert signed_with
    assert all("Credential=AKIABUCKETEER0000001/" in auth for auth in signed_with), signed_with
    assert all("/eu-west-1/s3/aws4_request" in auth for auth in signed_with), signed_with


@pytest.mark.parametrize("given", ["session token", "container role"])
def test_a_session_token_or_boto3s_chain_signs_on_a_dyno(
    project, config_vars, s3_server, s3_client, bucket, given
):
    """Temporary keys with AWS_SESSION_TOKEN, or no keys in a container whose role boto3's
    chain finds: S3StaticStorage signs every request with them."""
    app = project(f'STORAGES = {{"staticfiles": {{"BACKEND": "{PKG}.S3StaticStorage"}}}}')
    source = app.app_dir / "shop_site" / "static" / "shop" / "base.css"
    token = f"session-token-{uuid.uuid4().hex}"
    with serving_container_role() as role, running_proxy(s3_server.endpoint_url) as proxy:
        signed_with = recording_signed_requests(proxy)
        at_proxy = config_vars | {"AWS_S3_ENDPOINT_URL": proxy.endpoint_url}
        if given == "session token":
            dyno_vars = at_proxy | {"AWS_SESSION_TOKEN": token}
            expected = (config_vars["AWS_ACCESS_KEY_ID"], token)
        else:
            keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
            dyno_vars = {name: value for name, value in at_proxy.items() if name not in keys}
            dyno_vars |= role.env
            expected = (role.access_key, role.token)
        saved = app.drive(
            dyno_vars,
            {
                "op": "save",
                "storage": "staticfiles",
                "name": "shop/base.css",
                "source": str(source),
            },
        )
    assert saved == ["shop/base.css"]
    assert body(s3_client, bucket, "static/shop/base.css") == source.read_bytes()
    assert signed_with
    for authorization, token_sent in signed_with:
        assert f"Credential={expected[0]}/" in authorization and token_sent == expected[1]


def test_cached_boto_storage_uses_aws_location(project, config_vars, s3_client, bucket):
    """CachedS3BotoStorage saves under AWS_LOCATION and keeps a local copy under STATIC_ROOT."""
    app = project('AWS_LOCATION = "assets"')
    source = app.app_dir / "shop_site" / "static" / "shop" / "cart.js"
    saved = app.drive(
        config_vars,
        {
            "op": "save",
            "storage": f"{PKG}.CachedS3BotoStorage",
            "name": "shop/cart.js",
            "source": str(source),
        },
    )
    assert saved == ["shop/cart.js"]
    assert list(bucket_objects(s3_client, bucket)) == ["assets/shop/cart.js"]
    assert body(s3_client, bucket, "assets/shop/cart.js") == source.read_bytes()
    assert (app.static_root / "shop" / "cart.js").read_bytes() == source.read_bytes()


def test_manifest_storage_reads_the_manifest_from_the_slug(project, config_vars, s3_server, bucket):
    """After a build with HEROKUIFY_HASHED_NAMES=1, a dyno's ManifestS3StaticStorage answers
    url() from STATIC_ROOT/staticfiles.json in the slug: hashed URL, no request to S3."""
    app = project(
        "from herokuify_buildpack.settings import apply_storage_settings\n"
        "apply_storage_settings(globals(), app_root=BASE_DIR)"  # as herokuify_settings.py does
    )
    hashed_vars = {**config_vars, "HEROKUIFY_HASHED_NAMES": "1"}
    # As the build runs it, with its marker: local, hashed names.
    app.manage({**hashed_vars, BUILDING_MARKER: "1"}, "collectstatic", "--noinput")
    manifest = json.loads((app.static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["shop/base.css"]
    assert hashed != "shop/base.css" and (app.static_root / hashed).is_file()

    with running_proxy(s3_server.endpoint_url) as proxy:
        dyno_vars = {**hashed_vars, "DYNO": "web.1", "AWS_S3_ENDPOINT_URL": proxy.endpoint_url}
        results = app.drive(
            dyno_vars,
            {"op": "class", "storage": "staticfiles"},
            {"op": "url", "storage": "staticfiles", "name": "shop/base.css"},
            # A request that must show in the counts, so zero GETs means something.
            {"op": "exists", "storage": "staticfiles", "name": hashed},
        )
        counts = proxy.counts()
    assert results == [
        f"{PKG}.ManifestS3StaticStorage",
        f"{proxy.endpoint_url}/{bucket}/static/{hashed}",
        False,
    ]
    assert counts == {"PUT": 0, "GET": 0, "LIST": 0, "HEAD": 1, "DELETE": 0, "POST": 0}


@pytest.mark.parametrize("store", ["b2", "r2"])
def test_dyno_saves_to_stores_that_refuse_checksums_or_acls(
    project, config_vars, s3_server, s3_client, bucket, store
):
    """On a dyno the storages send no checksum a store refuses (B2) and, where the store
    refuses ACLs (R2), save static files without one after the first refusal."""
    app = project(
        f'STORAGES = {{"default": {{"BACKEND": "{PKG}.S3MediaStorage"}}, '
        f'"staticfiles": {{"BACKEND": "{PKG}.S3StaticStorage"}}}}'
    )
    with running_proxy(s3_server.endpoint_url) as proxy:
        profile = StoreProfile.named(store, proxy)
        proxied = {**config_vars, "AWS_S3_ENDPOINT_URL": proxy.endpoint_url}
        names = app.drive(
            proxied,
            {"op": "save", "storage": "staticfiles", "name": "css/a.css", "text": "a {}\n"},
            {"op": "save", "storage": "staticfiles", "name": "css/b.css", "text": "b {}\n"},
            {"op": "save", "storage": "default", "name": "uploads/c.txt", "text": "c\n"},
        )
    assert names == ["css/a.css", "css/b.css", "uploads/c.txt"]
    for key, data in (("static/css/a.css", b"a {}\n"), ("media/uploads/c.txt", b"c\n")):
        assert body(s3_client, bucket, key) == data
    refusals = [refusal.code for _, refusal in profile.refused]
    assert refusals == (["NotImplemented"] if store == "r2" else [])  # once, for a.css
