"""The quickstarts, followed line by line on a fresh `django-admin startproject` app whose
settings nothing edits: the README's, and docs/platforms.md's for Fir.

Shell lines run as they are, in the app; `heroku` and `dokku` lines become what the platform
does with them (the buildpack order, the config vars), and the push is a build through the
platform's own entry points: bin/* after Heroku's own heroku/python, herokuish for Dokku, or
for Fir the group of the quickstart's project.toml through the stand-ins of the CNB lifecycle
and of heroku/python's CNB. The Procfile's release process then runs in a one-off dyno, as
Heroku and Dokku run it before the new release serves. The "…" the quickstarts leave for
credentials are filled from the test's local S3 server.
"""

from __future__ import annotations

import shlex
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tomllib

from herokuify_buildpack import __version__
from herokuify_dev.cnbbuild import CnbBuild, build_app_cnb, running_image
from herokuify_dev.dyno import asset_urls, procfile_command, run_one_off, running_dyno
from herokuify_dev.herokuish import BUILD_UID, build_app_dokku, dokku_host
from herokuify_dev.localbuild import BuildResult
from herokuify_dev.pythons import python_for
from herokuify_dev.standin import StandIn
from herokuify_dev.transcript import Transcript

OURS = f"https://github.com/OWNER/herokuify-buildpack#v{__version__}"


@dataclass
class Followed:
    """What the platform was told by a quickstart's lines, up to its push."""

    buildpacks: list[str] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)
    pushed: bool = False


def follow(run_in, app: Path, lines: list[str], tool: str, secrets: dict[str, str]) -> Followed:
    """Runs the shell lines in ``app`` and reads the platform's own: ``tool buildpacks:add``
    and ``tool config:set`` (Dokku's name the app first), and the shell part of the push line,
    `git push TOOL main`."""
    push = f"git push {tool} main"
    told = Followed()
    named_app = 1 if tool == "dokku" else 0
    for line in lines:
        words = shlex.split(line)
        if words[:2] == [tool, "buildpacks:add"]:
            told.buildpacks.append(words[-1])
        elif words[:2] == [tool, "config:set"]:
            for pair in words[2 + named_app :]:
                name, _, value = pair.partition("=")
                told.config[name] = secrets[name] if value == "…" else value
        elif line.endswith(push):
            run_in(app, line.removesuffix(push).rstrip().removesuffix("&&"))
            told.pushed = True
        else:
            run_in(app, line)
    assert told.pushed, "the quickstart has no push"
    return told


def assert_released_and_served(
    result: BuildResult, config_vars, s3_client, bucket: str, user: int | None = None
) -> None:
    """The release phase ran from the Procfile, the admin's stylesheet is in the bucket as
    the slug holds it, and the admin's login page, from the slug, loads its styles from it."""
    assert result.ok, result.output
    assert "-----> Done: " in result.output
    assert "No release phase publishes this slug" not in result.output
    release = procfile_command(result.build_dir, "release")
    released = run_one_off(result.build_dir, config_vars, release)
    assert released.returncode == 0, released.stdout + released.stderr
    assert "herokuify release: the build published this slug to" in released.stdout
    assert_admin_css_published(s3_client, bucket, Path(result.build_dir))
    add_web_process(result.build_dir)
    with running_dyno(result.build_dir, config_vars, user=user) as dyno:
        assert_styles_from_the_bucket(dyno.get("/admin/login/"), config_vars, bucket)


def assert_admin_css_published(s3_client, bucket: str, slug: Path) -> None:
    """The admin's stylesheet is in the bucket as the slug's STATIC_ROOT holds it."""
    admin_css = s3_client.get_object(Bucket=bucket, Key="static/admin/css/base.css")
    assert (
        admin_css["Body"].read()
        == (slug / "staticfiles" / "admin" / "css" / "base.css").read_bytes()
    )


def add_web_process(slug: Path) -> None:
    """A startproject app has no Procfile web process: the dev server stands in for one."""
    with (slug / "Procfile").open("a") as procfile:
        procfile.write("web: python manage.py runserver 0.0.0.0:$PORT --noreload\n")


def assert_styles_from_the_bucket(page: str, config_vars, bucket: str) -> None:
    """The admin login page's stylesheets are the bucket's, and each answers 200."""
    urls = asset_urls(page)
    bucket_url = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/static/admin/"
    styles = [url for url in urls if url.endswith(".css")]
    assert styles and all(url.startswith(bucket_url) for url in styles), urls
    for url in styles:
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, url


def test_the_heroku_quickstart_deploys_a_fresh_startproject_app(
    build, config_vars, s3_client, bucket, startproject_app, run_in, readme_block
):
    app = startproject_app
    told = follow(run_in, app, readme_block("Quickstart on Heroku"), "heroku", config_vars)
    assert told.buildpacks == ["heroku/python", OURS]
    result = build(app, {**config_vars, **told.config}, python="heroku")
    first_line = result.outputs["compile"].splitlines()[0]
    assert first_line == f"-----> herokuify-buildpack {__version__}: static and media files on S3"
    assert_released_and_served(result, config_vars, s3_client, bucket)


@pytest.fixture
def dokku(heroku_python):
    with dokku_host(heroku_python) as host:
        yield host


def test_the_dokku_quickstart_deploys_a_fresh_startproject_app(
    dokku, config_vars, s3_client, bucket, startproject_app, run_in, readme_block
):
    app = startproject_app
    told = follow(run_in, app, readme_block("Quickstart on Dokku"), "dokku", config_vars)
    heroku_python = "https://github.com/heroku/heroku-buildpack-python.git"
    assert told.buildpacks == [heroku_python, OURS.replace("#", ".git#")]
    # herokuish builds the pushed commit: the app's folder as git left it.
    result = build_app_dokku(app, {**config_vars, **told.config}, dokku, Transcript())
    assert_released_and_served(result, config_vars, s3_client, bucket, user=BUILD_UID)


# Heroku Fir, and any CNB platform ----------------------------------------------------------

# Where the Fir quickstart is: its project.toml block, then its shell block.
FIR_QUICKSTART = "Quickstart on Heroku Fir"
# What heroku/python's CNB prints when its collectstatic fails (buildpacks-python
# src/errors.rs), and Django's reason on a fresh startproject app.
COLLECTSTATIC_FAILED = "[Error: Unable to generate Django static files]"
NO_STATIC_ROOT = "without having set the STATIC_ROOT setting to a filesystem path"


def cnb_group(project_toml: Path) -> list[str]:
    """The group, each entry as the buildpack it names: its id, or the image a uri names."""
    group = tomllib.loads(project_toml.read_text())["io"]["buildpacks"]["group"]
    return [entry.get("id") or entry["uri"].rsplit("/", 1)[1] for entry in group]


def follow_fir_quickstart(run_in, readme_block, app: Path, config_vars) -> Followed:
    """Saves its project.toml in ``app``, then follows its shell lines."""
    toml = readme_block(FIR_QUICKSTART, "toml")
    (app / "project.toml").write_text("\n".join(toml) + "\n")
    return follow(run_in, app, readme_block(FIR_QUICKSTART), "heroku", config_vars)


def fir_build(app: Path, config_vars, root: Path, prepare: bool) -> CnbBuild:
    """What `git push` starts on Fir: heroku/python's stand-in on the Python `.python-version`
    names, with or without the prepare buildpack before it."""
    standin = StandIn(app, python=python_for((app / ".python-version").read_text().strip()))
    prepared = {} if prepare else {"prepare_dir": None}
    return build_app_cnb(app, config_vars, standin, root, Transcript(), **prepared)


def test_without_the_prepare_buildpack_heroku_pythons_collectstatic_fails_a_fresh_app(
    startproject_app, run_in, readme_block, config_vars, tmp_path
):
    """What Fir does to a fresh app listed with heroku/python and this buildpack alone: the
    CNB's own collectstatic, with the app's settings, stops the build before this one runs."""
    app = startproject_app
    told = follow_fir_quickstart(run_in, readme_block, app, config_vars)
    result = fir_build(app, {**config_vars, **told.config}, tmp_path / "cnb", prepare=False)
    assert result.result.returncodes["build"] == 1
    assert COLLECTSTATIC_FAILED in result.output
    assert NO_STATIC_ROOT in result.output
    assert f"herokuify-buildpack {__version__}: static and media files" not in result.output


def test_the_fir_quickstart_deploys_a_fresh_startproject_app(
    startproject_app, run_in, readme_block, config_vars, s3_client, bucket, tmp_path
):
    app = startproject_app
    settings = (app / "mysite" / "settings.py").read_text()
    told = follow_fir_quickstart(run_in, readme_block, app, config_vars)
    assert cnb_group(app / "project.toml") == [
        f"herokuify-django-s3-prepare:{__version__}",
        "heroku/python",
        f"herokuify-django-s3:{__version__}",
        "heroku/procfile",  # no stand-in: running_image reads the Procfile itself
    ]
    result = fir_build(app, {**config_vars, **told.config}, tmp_path / "cnb", prepare=True)
    assert result.ok, result.output
    # heroku/python's collectstatic ran, with the prepare buildpack's settings, and passed.
    assert "Running 'manage.py collectstatic'" in result.output
    assert COLLECTSTATIC_FAILED not in result.output
    assert "collectstatic ran with herokuify_buildpack.platforms.cnbsettings (" in result.output
    assert "-----> Done: " in result.output
    assert "No release phase publishes this slug" not in result.output
    workspace = result.lifecycle.workspace
    assert (workspace / "mysite" / "settings.py").read_text() == settings
    assert_admin_css_published(s3_client, bucket, workspace)

    # docker run: the image's launch env, with config vars as runtime env and no DYNO.
    add_web_process(result.lifecycle.image / "workspace")
    with running_image(result, config_vars) as web:
        assert_styles_from_the_bucket(web.get("/admin/login/"), config_vars, bucket)
