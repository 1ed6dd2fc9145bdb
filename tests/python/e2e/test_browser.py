"""A built page, seen in headless Chromium as a person would see it.

The compressor app, with a web font added to its stylesheet (conftest's font_app), is built
through bin/* against moto behind the "aws-strict-cors" store profile: S3 answers CORS only where
a bucket rule allows it (moto answers it always). A dyno started from the slug serves the page;
its CSS bundle, its script bundle, an image referenced by url() in CSS, an <img> and the font all
come from the bucket, on another origin. With the CORS rule, nothing fails; without it, the font
is refused, as in a real browser, and `doctor` says so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from herokuify_buildpack.bucket import rules
from herokuify_dev.browser import load_page
from herokuify_dev.dyno import running_dyno
from herokuify_dev.proxy import running_proxy
from herokuify_dev.stores import StoreProfile

REPO = Path(__file__).resolve().parents[3]


def test_the_page_loads_every_asset_and_without_cors_the_font_fails(
    build, config_vars, s3_server, s3_client, bucket, font_app
):
    s3_client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rules.cors_rule()]})
    with running_proxy(s3_server.endpoint_url) as proxy:
        store = StoreProfile.named("aws-strict-cors", proxy)
        proxied = config_vars | {"AWS_S3_ENDPOINT_URL": proxy.endpoint_url}
        result = build(font_app, proxied)
        assert result.ok, result.output
        assert "no CORS rule" not in result.output
        with running_dyno(result.build_dir, proxied) as dyno:
            store.answered.clear()
            seen = load_page(dyno.url + "/")
            fetched = list(store.answered)
            s3_client.delete_bucket_cors(Bucket=bucket)
            blocked = load_page(dyno.url + "/")

        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), **proxied}
        doctor = subprocess.run(
            [sys.executable, "-m", "herokuify_buildpack", "doctor"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    assert seen.title == "fonts:loaded", (seen.title, seen.console)
    assert seen.console == []
    keys = {target.key for target, _ in fetched}
    assert any(key.endswith(".ttf") for key in keys), keys
    assert any(key.startswith("static/CACHE/css/") for key in keys), keys
    assert any(key.startswith("static/CACHE/js/") for key in keys), keys
    assert any("img/bg" in key for key in keys), keys  # url() in the CSS bundle
    assert any("img/logo" in key for key in keys), keys
    assert all(status in (200, 206, 304) for _, status in fetched), fetched

    assert blocked.title in ("fonts:failed", "fonts:none"), (blocked.title, blocked.console)
    assert any("blocked by CORS policy" in line and ".ttf" in line for line in blocked.console)
    assert doctor.returncode == 1, doctor.stdout
    assert "FAIL CORS" in doctor.stdout
