"""An app without django.contrib.staticfiles: no static files to collect, but its media still go
to the bucket. The build skips static files in one line, still checks the bucket, and ends; a
dyno then saves an upload through default_storage, and it lands under media/.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.run import step_times
from herokuify_buildpack import steptimes
from herokuify_dev.dyno import running_dyno

ERROR_PREFIX = " !     herokuify: "
LISTER_LIFETIME = 1.0  # seconds the lister process may outlive the build


def lister_processes(env_dir: Path) -> list[int]:
    """The build's lister processes, still running: their command line names its ENV_DIR."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes() if proc.name.isdigit() else b""
            running = cmdline and (proc / "stat").read_text().split(")")[-1].split()[0] != "Z"
        except OSError:
            continue
        if running and b"listerprocess" in cmdline and bytes(env_dir) in cmdline:
            found.append(int(proc.name))
    return found


def post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# heroku/python runs its collectstatic for any Django app, and it fails where there is no
# django.contrib.staticfiles: a media-only app turns it off, as the quickstart does.
NO_COLLECTSTATIC = {"DISABLE_COLLECTSTATIC": "1"}


def test_heroku_python_fails_a_media_only_app_unless_its_collectstatic_is_off(
    build, config_vars, s3_client, bucket
):
    """Heroku's own heroku/python, as it is: the line the README's troubleshooting quotes."""
    result = build("media-only", config_vars, series="5.2", python="heroku")
    assert result.returncodes == {"heroku/python": 1}, result.output[-4000:]
    shown = result.outputs["heroku/python"]
    assert "Unknown command: 'collectstatic'" in shown
    assert " !     Error: Unable to generate Django static files." in shown
    assert "heroku config:set DISABLE_COLLECTSTATIC=1" in shown
    assert s3_client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_media_only_app_builds_and_its_uploads_land_in_the_bucket(
    build, config_vars, s3_client, bucket
):
    result = build("media-only", {**config_vars, **NO_COLLECTSTATIC})
    assert result.ok, result.output[-4000:]
    skipped = (
        "Static files skipped: django.contrib.staticfiles is not in INSTALLED_APPS; "
        f"media files go to s3://{bucket}/media/"
    )
    assert skipped in result.outputs["compile"]
    last_step = [line for line in result.outputs["compile"].splitlines() if line.startswith("--")]
    done = f"-----> Done: bucket {bucket} checked, no static files to upload ("
    assert last_step[-1].startswith(done) and last_step[-1].endswith(" s)"), last_step
    assert "Collecting" not in result.output and "Uploading" not in result.output
    # Django started, and the build waited for the bucket check; nothing else ran.
    steps = step_times(result.outputs["compile"])
    assert list(steps) == [steptimes.DJANGO, steptimes.LISTING_WAIT], result.outputs["compile"]
    assert s3_client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    # Nothing read the listing of static/; the lister ended with the build all the same.
    deadline = time.monotonic() + LISTER_LIFETIME
    while lister_processes(result.env_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lister_processes(result.env_dir) == []

    body = b"an upload from a dyno\n"
    with running_dyno(result.build_dir, config_vars) as dyno:
        status, answer = post(f"{dyno.url}/upload/note.txt", body)
        assert status == 200, dyno.log()[-3000:]
    saved, url = answer.decode().splitlines()
    assert saved == "uploads/note.txt"
    stored = s3_client.get_object(Bucket=bucket, Key=f"media/{saved}")["Body"].read()
    assert stored == body
    bucket_url = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/"
    assert url.startswith(f"{bucket_url}media/uploads/note.txt?"), url  # signed: media are private
    assert fetch(url) == (200, body)


def test_media_only_app_still_checks_the_bucket(build, config_vars, s3_client):
    """No static files to upload is no reason to pass a build whose bucket is missing."""
    missing = "herokuify-no-such-bucket"
    result = build(
        "media-only", {**config_vars, **NO_COLLECTSTATIC, "AWS_STORAGE_BUCKET_NAME": missing}
    )
    assert result.returncodes == {"heroku/python": 0, "detect": 0, "compile": 1}, result.output
    lines = [line for line in result.output.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(lines) == 1 and f"bucket {missing} does not exist" in lines[0], result.output
    assert "Done" not in result.outputs["compile"]
