"""The README's quickstart, followed line by line on a fresh `django-admin startproject` app.

Shell lines run as they are, in the app; `heroku` lines become what the platform does with them
(the buildpack order, the config vars), and `git push heroku main` is a build through bin/*,
after Heroku's own heroku/python, followed by the Procfile's release process in a one-off dyno,
as Heroku runs it before dynos boot.
The "…" the README leaves for credentials are filled from the test's local S3 server.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

from herokuify_dev.dyno import asset_urls, procfile_command, run_one_off, running_dyno

REPO = Path(__file__).resolve().parents[3]
PUSH = "git push heroku main"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def quickstart_lines() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quickstart on Heroku\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def run_in(app: Path, command: str) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(app.parent), **GIT_IDENTITY}
    subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=app, env=env, check=True)


def test_the_quickstart_deploys_a_fresh_startproject_app(
    build, config_vars, s3_client, bucket, tmp_path
):
    app = tmp_path / "mysite"
    app.mkdir()
    subprocess.run([sys.executable, "-m", "django", "startproject", "mysite", str(app)], check=True)
    # What the README asks of the project before its lines.
    run_in(app, "git init -q && echo Django > requirements.txt && git add -A && git commit -qm new")

    buildpacks: list[str] = []
    config: dict[str, str] = {}
    result = None
    for line in quickstart_lines():
        if line.startswith("heroku buildpacks:add "):
            buildpacks.append(line.split()[-1])
        elif line.startswith("heroku config:set "):
            for pair in shlex.split(line)[2:]:
                name, _, value = pair.partition("=")
                config[name] = config_vars[name] if value == "…" else value
        elif line.endswith(PUSH):
            run_in(app, line.removesuffix(PUSH).rstrip().removesuffix("&&"))
            assert buildpacks == ["heroku/python", buildpacks[-1]], buildpacks
            assert buildpacks[-1].endswith("/herokuify-buildpack")
            result = build(app, {**config_vars, **config}, python="heroku")
        else:
            run_in(app, line)
    assert result is not None, "the quickstart has no push"
    assert result.ok, result.output
    assert "-----> Done: " in result.output
    assert "No release phase publishes this slug" not in result.output
    released = run_one_off(
        result.build_dir, config_vars, procfile_command(result.build_dir, "release")
    )
    assert released.returncode == 0, released.stdout + released.stderr
    assert "herokuify release: the build published this slug to" in released.stdout
    admin_css = s3_client.get_object(Bucket=bucket, Key="static/admin/css/base.css")
    assert (
        admin_css["Body"].read()
        == (Path(result.build_dir) / "staticfiles" / "admin" / "css" / "base.css").read_bytes()
    )

    # The admin's login page, from the slug, loads its styles from the bucket.
    with (result.build_dir / "Procfile").open("a") as procfile:
        procfile.write("web: python manage.py runserver 0.0.0.0:$PORT --noreload\n")
    with running_dyno(result.build_dir, config_vars) as dyno:
        page = dyno.get("/admin/login/")
    urls = asset_urls(page)
    bucket_url = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/static/admin/"
    styles = [url for url in urls if url.endswith(".css")]
    assert styles and all(url.startswith(bucket_url) for url in styles), urls
    for url in styles:
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, url
