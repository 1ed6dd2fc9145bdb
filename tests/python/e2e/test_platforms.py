"""The same product on the other platforms that build Django apps from git: a Cloud Native
Buildpack platform (Heroku Fir, `pack build`) through the lifecycle stand-in, and Dokku through
the herokuish stand-in. Each against the local S3 server, with the checks of a classic build."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from herokuify_buildpack import __version__
from herokuify_dev.cnbbuild import build_app_cnb, running_image
from herokuify_dev.dyno import asset_urls, running_dyno
from herokuify_dev.herokuish import BUILD_UID, build_app_dokku, dokku_host
from herokuify_dev.proxy import running_proxy
from herokuify_dev.transcript import Transcript

FIXTURES = Path(__file__).resolve().parents[3] / "test-fixtures"
APP = "compressor"
RECORDS = "static/.herokuify/releases/"
LOCAL_ONLY = {"staticfiles.json", "CACHE/manifest.json"}
HEADER = f"-----> herokuify-buildpack {__version__}: static and media files on S3"


def first_step(output: str) -> str:
    """The first '-----> ' line: after the platform's own lines, the buildpack's first.
    herokuish starts each line with ESC[1G (back to column 1), which a terminal does not show."""
    lines = (line.replace("\x1b[1G", "") for line in output.splitlines())
    return next(line for line in lines if line.startswith("-----> "))


def published(static_root: Path) -> dict[str, Path]:
    """What the build should have uploaded: every file in STATIC_ROOT but the manifests."""
    return {
        path.relative_to(static_root).as_posix(): path
        for path in static_root.rglob("*")
        if path.is_file() and path.relative_to(static_root).as_posix() not in LOCAL_ONLY
    }


def assert_bucket_holds(s3_client, bucket: str, static_root: Path) -> None:
    """Every file byte for byte, and nothing else under static/ but release records."""
    local = published(static_root)
    assert len(local) > 100
    keys = {
        item["Key"]
        for page in s3_client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix="static/"
        )
        for item in page.get("Contents", [])
        if not item["Key"].startswith(RECORDS)
    }
    assert keys == {f"static/{name}" for name in local}
    for name, path in local.items():
        body = s3_client.get_object(Bucket=bucket, Key=f"static/{name}")["Body"].read()
        assert body == path.read_bytes(), name


def assert_page_uses_the_bucket(page: str, endpoint_url: str, bucket: str) -> None:
    urls = asset_urls(page)
    assert any("/static/CACHE/css/" in url for url in urls), urls
    assert all(url.startswith(f"{endpoint_url}/{bucket}/") for url in urls), urls
    for url in urls:
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, url


def assert_no_secret_in(files_under: list[Path], output: str, secret: str, skip: str = "") -> None:
    """Not in the output, nor in any file under these folders (but those under ``skip``)."""
    assert secret not in output
    for root in files_under:
        for path in root.rglob("*"):
            if skip and skip in path.parts:
                continue
            if path.is_file() and not path.is_symlink():
                assert secret.encode() not in path.read_bytes(), path


# Cloud Native Buildpacks ------------------------------------------------------------------


def test_cnb_build_rebuild_and_launch_without_dyno(
    tmp_path, s3_server, s3_client, bucket, config_vars, standins
):
    standin = standins(APP)
    root = tmp_path / "cnb"
    with running_proxy(s3_server.endpoint_url) as proxy:
        cnb_vars = {**config_vars, "AWS_S3_ENDPOINT_URL": proxy.endpoint_url}
        first = build_app_cnb(FIXTURES / APP, cnb_vars, standin, root, Transcript())
        assert first.ok, first.output
        prepared = (
            "heroku/python's collectstatic ran with herokuify_buildpack.platforms.cnbsettings"
        )
        assert prepared in first.output
        assert proxy.counts()["PUT"] > 100

        proxy.reset()
        again = build_app_cnb(FIXTURES / APP, cnb_vars, standin, root, Transcript())
        assert again.ok, again.output
        assert proxy.counts()["PUT"] == 0, again.output  # the cache layer came back
        assert "Done: 0 files uploaded" in again.output

        workspace = again.lifecycle.workspace
        assert_bucket_holds(s3_client, bucket, workspace / "staticfiles")
        secret = cnb_vars["AWS_SECRET_ACCESS_KEY"]
        assert_no_secret_in([root / "layers", root / "cache", root / "image"], again.output, secret)

        # docker run: the image's launch env, with config vars as runtime env and no DYNO.
        runtime = {name: value for name, value in cnb_vars.items() if name != "DYNO"}
        with running_image(again, runtime) as web:
            page = web.get("/")
        assert_page_uses_the_bucket(page, proxy.endpoint_url, bucket)


def test_cnb_layers_hold_the_helper_and_the_settings_module_for_launch(
    tmp_path, config_vars, standins
):
    build = build_app_cnb(FIXTURES / "minimal", config_vars, standins("minimal"), tmp_path / "c")
    assert build.ok, build.output
    layers = build.lifecycle.layers / "herokuify_django-s3"
    assert (layers / "helper.toml").read_text().startswith("[types]\nlaunch = true\n")
    assert (layers / "upload-cache.toml").read_text() == "[types]\ncache = true\n"
    env = build.lifecycle.launch_env({"PATH": "/usr/bin:/bin"})
    assert env["DJANGO_SETTINGS_MODULE"] == "herokuify_settings"
    assert env["PYTHONPATH"].split(":")[0] == str(layers / "helper")
    # Nothing of ours in heroku/python's layers.
    venv = build.lifecycle.layers / "heroku_python" / "venv"
    assert not list(venv.rglob("herokuify_buildpack"))


def test_cnb_keep_settings_module_leaves_django_settings_module_alone(
    tmp_path, config_vars, standins
):
    keep = {**config_vars, "HEROKUIFY_KEEP_SETTINGS_MODULE": "1"}
    build = build_app_cnb(FIXTURES / "minimal", keep, standins("minimal"), tmp_path / "c")
    # The minimal app's own settings do not call apply_storage_settings: the build says so.
    assert not build.ok
    assert "does not apply herokuify's storage settings" in build.output
    layers = build.lifecycle.layers / "herokuify_django-s3"
    assert not (layers / "helper" / "env.launch" / "DJANGO_SETTINGS_MODULE.override").exists()
    # Nor does the prepare buildpack set it for heroku/python's collectstatic.
    prepared = build.lifecycle.layers / "herokuify_django-s3-prepare" / "collect-settings"
    assert (prepared / "env.build" / "PYTHONPATH.prepend").read_text() == str(prepared)
    assert not (prepared / "env.build" / "DJANGO_SETTINGS_MODULE.override").exists()


def test_cnb_without_a_python_buildpack_says_which_to_add(tmp_path, config_vars):
    from herokuify_dev.lifecycle import Lifecycle
    from herokuify_dev.localbuild import REPO_ROOT

    cycle = Lifecycle(tmp_path / "c", [REPO_ROOT], {"PATH": "/usr/bin:/bin"}, Transcript())
    result = cycle.build(FIXTURES / "minimal", config_vars)
    assert result.returncodes["build"] == 1
    assert first_step(result.output) == HEADER, result.output
    assert "no Python from an earlier buildpack in this build" in result.output
    assert "--buildpack heroku/python --buildpack herokuify/django-s3" in result.output


# Dokku ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dokku(heroku_python):
    with dokku_host(heroku_python) as host:
        yield host


def test_dokku_builds_as_another_user_moves_the_build_and_redeploys(
    s3_client, bucket, config_vars, dokku, series_app, tmp_path
):
    """herokuish's own `buildpack build`, Heroku's heroku/python then this buildpack through
    heroku-buildpack-multi, as Dokku runs an app's two buildpacks."""
    app = series_app(FIXTURES / APP, "5.2", tmp_path / "app")
    first = build_app_dokku(app, config_vars, dokku, Transcript())
    assert first.ok, first.output
    assert "=====> Downloading Buildpack: /tmp/repos/heroku-python" in first.output
    # This buildpack's part of the log starts with its version, after multi's own lines.
    ours = first.output.split("=====> Downloading Buildpack: /tmp/repos/herokuify", 1)[1]
    assert first_step(ours) == HEADER, ours
    assert "Done: " in first.output
    assert first.build_dir.name == "app" and first.build_dir.stat().st_uid == BUILD_UID
    assert_bucket_holds(s3_client, bucket, first.build_dir / "staticfiles")
    with running_dyno(first.build_dir, config_vars, user=BUILD_UID) as dyno:
        page = dyno.get("/")
    assert_page_uses_the_bucket(page, config_vars["AWS_S3_ENDPOINT_URL"], bucket)

    again = build_app_dokku(app, config_vars, dokku, Transcript())
    assert again.ok, again.output
    assert "Done: 0 files uploaded" in again.output  # the cache volume came back
    secret = config_vars["AWS_SECRET_ACCESS_KEY"]
    # heroku/python's own Python aside, as for every classic build (conftest.py).
    assert_no_secret_in([again.build_dir, again.cache_dir], again.output, secret, ".heroku")
