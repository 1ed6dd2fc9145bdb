"""The product path: build a sample app through bin/* after Heroku's own heroku/python, then
serve it from the slug."""

from __future__ import annotations

import mimetypes
import urllib.request

import pytest

from herokuify_dev.dyno import asset_urls, running_dyno


def bucket_objects(s3_client, bucket: str, prefix: str) -> dict[str, dict]:
    objects = {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            objects[item["Key"]] = item
    return objects


@pytest.mark.parametrize("series", ["3.2", "4.1", "4.2", "5.2", "6"])
def test_compressor_app_assets_reach_the_bucket_and_the_page(
    build, config_vars, s3_client, bucket, series
):
    result = build("compressor", config_vars, series=series, python="heroku")
    assert result.ok, result.output
    static_root = result.build_dir / "staticfiles"

    # Every collected file is in the bucket, byte for byte, with its Content-Type.
    local = {
        path.relative_to(static_root).as_posix(): path
        for path in static_root.rglob("*")
        if path.is_file() and path.name != "manifest.json"
    }
    assert len(local) > 100
    for name, path in local.items():
        obj = s3_client.get_object(Bucket=bucket, Key=f"static/{name}")
        assert obj["Body"].read() == path.read_bytes(), name
        expected_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        assert obj["ContentType"] == expected_type, name
    bundles = [name for name in local if name.startswith("CACHE/")]
    assert any(name.endswith(".css") for name in bundles)
    assert any(name.endswith(".js") for name in bundles)

    # The offline manifest ships in the slug and is not uploaded.
    assert (static_root / "CACHE" / "manifest.json").is_file()
    assert "static/CACHE/manifest.json" not in bucket_objects(s3_client, bucket, "static/")

    with running_dyno(result.build_dir, config_vars) as dyno:
        page = dyno.get("/")
    urls = asset_urls(page)
    bucket_url = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/"
    assert len(urls) >= 4
    assert all(url.startswith(bucket_url) for url in urls), urls
    assert any("/static/CACHE/css/" in url for url in urls)
    assert any("/static/CACHE/js/" in url for url in urls)
    for url in urls:
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, url
