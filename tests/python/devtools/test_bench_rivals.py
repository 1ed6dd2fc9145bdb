"""The bench's s5cmd and Django-alone rows run what they say: s5cmd sends herokuify's keys and
headers and skips what is there, and Django alone collects and compresses a real app."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench import djangoalone
from bench.floor import SHORT
from bench.run import s5cmd_sync
from herokuify_dev.s3server import FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY

FIXTURES = Path(__file__).resolve().parents[3] / "test-fixtures"
S5CMD_ENV = {
    "PATH": "/usr/bin:/bin",
    "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
    "AWS_REGION": "us-east-1",
}


def _sync(root: Path, s3_server, bucket: str) -> None:
    cmd = s5cmd_sync(root, s3_server.endpoint_url, bucket, workers=4)
    subprocess.run(cmd, env=S5CMD_ENV, check=True, capture_output=True)


def test_s5cmd_uploads_the_keys_and_headers_herokuify_does(tmp_path, s3_server, s3_client, bucket):
    root = tmp_path / "staticfiles"
    (root / "css").mkdir(parents=True)
    (root / "css" / "site.css").write_text("body { color: red; }\n")
    (root / "app.js").write_text("export const x = 1;\n")
    _sync(root, s3_server, bucket)
    listed = s3_client.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(item["Key"] for item in listed) == ["static/app.js", "static/css/site.css"]
    head = s3_client.head_object(Bucket=bucket, Key="static/css/site.css")
    assert head["CacheControl"] == SHORT
    assert head["ContentType"].startswith("text/css")
    grants = s3_client.get_object_acl(Bucket=bucket, Key="static/app.js")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("/global/AllUsers") for g in grants)


def test_s5cmd_skips_a_new_builds_files_of_the_same_size(tmp_path, s3_server, s3_client, bucket):
    root = tmp_path / "first"
    root.mkdir()
    (root / "same.css").write_text("a { }\n")
    (root / "grown.css").write_text("b { }\n")
    _sync(root, s3_server, bucket)
    again = tmp_path / "again"
    shutil.copytree(root, again, copy_function=shutil.copy)  # newer modification times
    (again / "same.css").write_text("c { }\n")  # new bytes, same size: --size-only's blind spot
    (again / "grown.css").write_text("b { color: red; }\n")
    _sync(again, s3_server, bucket)

    def body(key: str) -> bytes:
        return s3_client.get_object(Bucket=bucket, Key=f"static/{key}")["Body"].read()

    assert body("same.css") == b"a { }\n"
    assert body("grown.css") == b"b { color: red; }\n"


def test_django_alone_links_and_compresses_the_compressor_fixture(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "compressor", app)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shop_site.settings"}
    done = subprocess.run(
        [sys.executable, djangoalone.__file__],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["compressed"] is True
    assert report["collected"] > 0
    static_root = app / "staticfiles"
    assert (static_root / "shop" / "base.css").is_symlink()
    assert (static_root / "CACHE" / "manifest.json").is_file()


def test_django_alone_does_not_compress_an_app_without_compressor(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "minimal", app)
    settings = next(app.glob("*/settings.py"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": f"{settings.parent.name}.settings"}
    done = subprocess.run(
        [sys.executable, djangoalone.__file__], cwd=app, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["compressed"] is False
    assert report["collected"] == sum(1 for p in (app / "staticfiles").rglob("*") if p.is_symlink())
