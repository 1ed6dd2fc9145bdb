import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from herokuify_dev import localbuild
from herokuify_dev.browser import load_page
from herokuify_dev.dyno import asset_urls, run_one_off
from herokuify_dev.envdir import read_env_dir, write_env_dir
from herokuify_dev.localbuild import build_app
from herokuify_dev.localstate import AppState, restore_bucket, save_bucket
from herokuify_dev.pushed import write_pushed
from herokuify_dev.pythons import PythonRequest, requested_python
from herokuify_dev.s3server import make_client
from herokuify_dev.slugignore import prune
from herokuify_dev.standin import StandIn, find_manage_py

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "test-fixtures"

FAKE_DETECT = """#!/usr/bin/env bash
if [[ -f "$1/.heroku/python/bin/python" ]]; then echo "Fake"; exit 0; fi
echo "no .heroku/python in $1"; exit 1
"""
# Checks what the platform promises a buildpack's compile: HOME=/app, the previous buildpack's
# python first on PATH (as /app/.heroku/python, a link to the build's), and a clean environment
# but what heroku/python's export file sets (bash adds PWD, SHLVL and _).
FAKE_COMPILE = """#!/usr/bin/env bash
set -euo pipefail
BUILD_DIR="$1" CACHE_DIR="$2" ENV_DIR="$3"
echo "-----> Fake compile"
py="$(command -v python)"
if [[ "$py" != /app/.heroku/python/bin/python || "$HOME" != /app ]]; then
  echo " !     python is $py, HOME is $HOME"; exit 2
fi
[[ "$(readlink -f /app/.heroku/python)" == "$(readlink -f "$BUILD_DIR/.heroku/python")" ]] || exit 2
echo "       python is $py"
exported='PIP_DISABLE_PIP_VERSION_CHECK|PYTHONUNBUFFERED|PYTHONHOME|LIBRARY_PATH|LD_LIBRARY_PATH|LANG|PYTHONPATH'
extra="$(env | cut -d= -f1 | grep -vxE "PATH|HOME|STACK|PWD|SHLVL|_|OLDPWD|$exported" || true)"
if [[ -n "$extra" ]]; then echo " !     unexpected env: $extra"; exit 3; fi
python -c 'import django, sys; print("       django", django.__version__, sys.prefix)'
count=$(cat "$CACHE_DIR/count" 2>/dev/null || echo 0)
echo $((count + 1)) >"$CACHE_DIR/count"
echo "       build number $((count + 1)) in this cache"
if [[ -f "$ENV_DIR/FAKE_FAIL" ]]; then echo "failing on purpose" >&2; exit 4; fi
"""
FAKE_RELEASE = """#!/usr/bin/env bash
echo "---"
echo "default_process_types: {}"
"""
FAKE_SCRIPTS = {"detect": FAKE_DETECT, "compile": FAKE_COMPILE, "release": FAKE_RELEASE}


@pytest.fixture(scope="session")
def fake_bp(script_buildpack):
    """A throwaway buildpack whose compile checks what the platform promises it."""
    return script_buildpack("fakebp", FAKE_SCRIPTS)


def test_env_dir_round_trip(tmp_path):
    write_env_dir(tmp_path, {"A": "x y\n", "B": b"\xff\x00", "EMPTY": ""})
    assert (tmp_path / "A").read_bytes() == b"x y\n"
    assert read_env_dir(tmp_path) == {"A": b"x y\n", "B": b"\xff\x00", "EMPTY": b""}
    with pytest.raises(ValueError):
        write_env_dir(tmp_path, {"../x": "1"})


def test_find_manage_py(tmp_path):
    assert find_manage_py(tmp_path) is None
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c" / "manage.py").touch()  # depth 4: too deep
    assert find_manage_py(tmp_path) is None
    (tmp_path / "a" / "b" / "manage.py").touch()
    assert find_manage_py(tmp_path) == tmp_path / "a" / "b" / "manage.py"
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "manage.py").touch()
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "manage.py").touch()
    assert find_manage_py(tmp_path) == tmp_path / "y" / "manage.py"
    (tmp_path / ".heroku").mkdir()
    (tmp_path / ".heroku" / "manage.py").touch()
    assert find_manage_py(tmp_path) == tmp_path / "y" / "manage.py"
    (tmp_path / "manage.py").touch()
    assert find_manage_py(tmp_path) == tmp_path / "manage.py"


def test_minimal_and_redeploy(standins, tmp_path, fake_bp):
    standin = standins("minimal")
    t = time.monotonic()
    first = build_app(
        FIXTURES / "minimal", {"X": "1"}, standin, workdir=tmp_path / "one", buildpack_dir=fake_bp
    )
    print(f"warm build: {time.monotonic() - t:.2f}s")
    assert first.ok, first.output
    assert "build number 1 in this cache" in first.output
    assert first.build_dir == tmp_path / "one" / "build"
    assert (first.build_dir / "staticfiles" / "minimal").is_dir()
    assert first.release_metadata.startswith("---\n")
    assert "--- {}" not in first.output  # the platform reads bin/release's YAML; it shows none
    assert "-----> Fake app detected" in first.outputs["detect"]
    second = build_app(
        FIXTURES / "minimal",
        {},
        standin,
        cache_dir=first.cache_dir,
        workdir=tmp_path / "two",
        buildpack_dir=fake_bp,
    )
    assert second.ok and "build number 2 in this cache" in second.output
    # The cached install is shared by hard links and was not changed by the builds.
    installed = standin.installed()
    assert not (installed / "lib" / "herokuify_buildpack").exists()
    assert not list(installed.glob("lib/python*/site-packages/herokuify_buildpack"))


def test_space_in_build_path(standins, tmp_path, fake_bp):
    r = build_app(
        FIXTURES / "minimal",
        {},
        standins("minimal"),
        workdir=tmp_path / "with space $x",
        buildpack_dir=fake_bp,
    )
    assert r.ok, r.output
    out = run_one_off(r.build_dir, {}, "django-admin --version")
    assert out.returncode == 0, out.stderr


def test_disable_collectstatic(standins, tmp_path, fake_bp):
    r = build_app(
        FIXTURES / "broken-settings",
        {"DISABLE_COLLECTSTATIC": "1"},
        standins("broken-settings"),
        workdir=tmp_path,
        buildpack_dir=fake_bp,
    )
    assert r.ok, r.output
    assert "collectstatic --noinput" not in r.output


def test_collectstatic_failure_fails_the_build(standins, tmp_path, fake_bp):
    r = build_app(
        FIXTURES / "broken-settings",
        {},
        standins("broken-settings"),
        workdir=tmp_path,
        buildpack_dir=fake_bp,
    )
    assert not r.ok
    assert r.returncodes == {"heroku/python": 1}
    assert " !     Error: Unable to generate Django static files." in r.output


def test_subfolder(standins, tmp_path, fake_bp):
    r = build_app(
        FIXTURES / "subfolder", {}, standins("subfolder"), workdir=tmp_path, buildpack_dir=fake_bp
    )
    assert r.ok, r.output
    assert "$ python backend/manage.py collectstatic --noinput" in r.output


def test_detect_failure_ends_the_build(standins, tmp_path, fake_bp):
    bp = tmp_path / "bp"
    shutil.copytree(fake_bp, bp)
    (bp / "bin" / "detect").write_text("#!/bin/sh\necho 'not for this app'\nexit 1\n")
    r = build_app(
        FIXTURES / "not-django",
        {},
        standins("not-django"),
        workdir=tmp_path / "w",
        buildpack_dir=bp,
    )
    assert r.returncodes == {"heroku/python": 0, "detect": 1} and not r.ok
    assert "not for this app" in r.output and "App not compatible with buildpack" in r.output


def test_compile_failure(standins, tmp_path, fake_bp):
    r = build_app(
        FIXTURES / "minimal",
        {"FAKE_FAIL": "1"},
        standins("minimal"),
        workdir=tmp_path,
        buildpack_dir=fake_bp,
    )
    assert r.returncodes["compile"] == 4 and "release" not in r.returncodes and not r.ok
    assert "failing on purpose" in r.outputs["compile"]


def test_copy_ignores(standins, tmp_path, fake_bp):
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "minimal", app)
    for junk in (
        ".git/x",
        "staticfiles/a.css",
        ".venv/bin/x",
        "minimal_site/__pycache__/x.pyc",
        ".heroku/python/x",
    ):
        (app / junk).parent.mkdir(parents=True, exist_ok=True)
        (app / junk).write_text("junk")
    (app / "db.sqlite3").write_text("junk")
    r = build_app(
        app,
        {"DISABLE_COLLECTSTATIC": "1"},
        StandIn(app),
        workdir=tmp_path / "w",
        buildpack_dir=fake_bp,
    )
    assert r.ok, r.output
    for junk in (
        ".git",
        "staticfiles",
        ".venv",
        "minimal_site/__pycache__",
        "db.sqlite3",
        ".heroku/python/x",
    ):
        assert not (r.build_dir / junk).exists(), junk


@pytest.mark.parametrize("platform", ["cnb", "dokku"])
def test_local_build_on_another_platform(platform, config_vars, s3_client, bucket, readme_block):
    """The README's `script/local-build --platform ...`, against the session's S3 server."""
    env_args = [arg for name, value in config_vars.items() for arg in ("--env", f"{name}={value}")]
    shown = readme_local_build(readme_block, "--platform")  # "--platform cnb   # or dokku"
    platform_args = [*shown[:-1], platform, *env_args]
    done = subprocess.run(
        [sys.executable, "-m", "herokuify_dev.localbuild", FIXTURES / "compressor", *platform_args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"Build succeeded on the {platform} platform" in done.stdout
    keys = s3_client.list_objects_v2(Bucket=bucket, Prefix="static/shop/")["KeyCount"]
    assert keys > 0


def test_local_build_then_doctor(config_vars, s3_client, bucket):
    """`script/local-build --doctor`: the doctor runs against the bucket just built into."""
    env_args = [arg for name, value in config_vars.items() for arg in ("--env", f"{name}={value}")]
    done = subprocess.run(
        [sys.executable, "-m", "herokuify_dev.localbuild", FIXTURES / "minimal", "--doctor",
         *env_args],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"herokuify doctor: bucket {bucket}" in done.stdout
    assert "ok   static files public" in done.stdout
    assert "FAIL lifecycle" in done.stdout  # a fresh bucket has none; the build still passed
    assert config_vars["AWS_SECRET_ACCESS_KEY"] not in done.stdout


# script/local-build, as a user runs it: the tests' shell holds none of the names it passes on.
SHELL = {
    name: value
    for name, value in os.environ.items()
    if not name.startswith(("AWS_", "BUCKETEER_", "HEROKUIFY_"))
}


def readme_local_build(readme_block, option: str = "") -> list[str]:
    """What follows `path/to/app` on the README's "Rehearse locally" line that has ``option``
    (the plain line when none): the tests run these, so the README shows what they run."""
    for line in readme_block("Rehearse locally"):
        words = shlex.split(line, comments=True)
        assert words[:2] == ["script/local-build", "path/to/app"], line
        if (option in words) if option else len(words) == 2:
            return words[2:]
    raise AssertionError(f"the README shows no script/local-build line with {option!r}")


def local_build(*args: object, **shell: str) -> subprocess.CompletedProcess[str]:
    """`script/local-build ARGS` (without its bootstrap: the tests' venv is set up), with these
    variables added to the shell."""
    return subprocess.run(
        [sys.executable, "-m", "herokuify_dev.localbuild", *map(str, args)],
        cwd=REPO,
        env={**SHELL, "PYTHONPATH": str(REPO), **shell},
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_second_local_build_is_a_redeploy(tmp_path):
    """The local bucket and CACHE_DIR outlive a run, as a real bucket and Heroku's cache do. The
    compressor app, whose bundles hold the bucket's URL: the local server keeps its port too.
    The first run is the README's first command, `script/local-build`, whose app it is."""
    state = tmp_path / "state"
    first = subprocess.run(
        [REPO / "script" / "local-build", "--state-dir", state],
        cwd=REPO, env=SHELL, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "herokuify-local: empty, as on a first push\n" in first.stdout
    done = re.search(r"Done: (\d+) files? uploaded, 0 unchanged", first.stdout)
    assert done, first.stdout
    files = int(done[1])
    assert f"static/ {files + 1} object(s): {files} files and 1 release record" in first.stdout

    second = local_build(FIXTURES / "compressor", "--state-dir", state)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    kept = f"herokuify-local: {files + 1} objects kept from the last run (--fresh empties it)"
    assert f"{kept}\n" in second.stdout
    assert f"Done: 0 files uploaded, {files} unchanged" in second.stdout
    cache_dir = re.search(r"CACHE_DIR (\S+) \(kept\)", second.stdout)
    assert cache_dir and Path(cache_dir[1]).is_relative_to(state)

    fresh = local_build(FIXTURES / "compressor", "--state-dir", state, "--fresh")
    assert fresh.returncode == 0, fresh.stdout[-3000:] + fresh.stderr[-3000:]
    assert "herokuify-local: empty, as on a first push\n" in fresh.stdout
    assert f"Done: {files} files uploaded, 0 unchanged" in fresh.stdout


@pytest.mark.parametrize("ending", [KeyboardInterrupt, RuntimeError])
def test_the_local_bucket_is_kept_however_the_build_ends(tmp_path, ending):
    """A Ctrl-C or an error mid-build: CACHE_DIR already records the uploads made, so the
    bucket that holds them is kept with it."""
    state = AppState(tmp_path / "app")
    with pytest.raises(ending), localbuild._s3_for_build({}, state, state.cache_dir) as s3:
        client = make_client(s3["AWS_S3_ENDPOINT_URL"])
        client.put_object(Bucket=s3["AWS_STORAGE_BUCKET_NAME"], Key="static/a.css", Body=b"a")
        raise ending()
    saved = json.loads((state.bucket_dir / "objects.json").read_text())
    assert [entry["key"] for entry in saved] == ["static/a.css"]


CTRL_C_RUN = """
import sys, time
from pathlib import Path
from herokuify_dev.localbuild import _s3_for_build
from herokuify_dev.localstate import AppState
from herokuify_dev.s3server import make_client

state = AppState(Path(sys.argv[1]))
with _s3_for_build({}, state, state.cache_dir) as s3:
    client = make_client(s3["AWS_S3_ENDPOINT_URL"])
    client.put_object(Bucket=s3["AWS_STORAGE_BUCKET_NAME"], Key="static/a.css", Body=b"a")
    print("uploaded", flush=True)
    time.sleep(60)
"""


def test_ctrl_c_in_a_terminal_keeps_the_local_bucket(tmp_path):
    """Ctrl-C signals the terminal's whole process group: the moto server must outlive it."""
    with subprocess.Popen(
        [sys.executable, "-c", CTRL_C_RUN, tmp_path / "app"],
        cwd=REPO,
        env={**SHELL, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal's foreground job has
    ) as run:
        try:
            assert "uploaded\n" in iter(run.stdout.readline, ""), run.stderr.read()
            os.killpg(run.pid, signal.SIGINT)
            _, errors = run.communicate(timeout=30)
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
    assert "KeyboardInterrupt" in errors
    saved = json.loads((tmp_path / "app" / "bucket" / "objects.json").read_text())
    assert [entry["key"] for entry in saved] == ["static/a.css"]


def test_a_bucket_that_cannot_be_kept_takes_the_kept_cache_with_it(tmp_path, monkeypatch):
    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(localbuild, "save_bucket", fail)
    state = AppState(tmp_path / "app")
    for cache_dir in (tmp_path / "users-own-cache", state.cache_dir):
        cache_dir.mkdir(parents=True)
        (cache_dir / "uploads").write_text("static/a.css")
        with (
            pytest.raises(OSError, match="disk full"),
            localbuild._s3_for_build({}, state, cache_dir),
        ):
            pass
    assert not state.cache_dir.exists()
    assert (tmp_path / "users-own-cache" / "uploads").exists()  # --cache-dir: not ours to empty


def test_saving_downloads_only_what_changed_since_the_restore(s3_server, tmp_path):
    """A redeploy's save fetches only the objects the build wrote, including one copied onto
    itself with new headers, which keeps its ETag."""
    client, folder = s3_server.client(), tmp_path / "bucket"
    first, second, third = (f"keep-{uuid.uuid4().hex[:12]}" for _ in range(3))
    for name in (first, second, third):
        s3_server.create_bucket(name)
    for key in ("same.css", "new-body.css", "new-headers.css"):
        client.put_object(
            Bucket=first, Key=key, Body=key.encode(), ContentType="text/css", ACL="public-read"
        )
    save_bucket(client, first, folder)
    restored = restore_bucket(client, second, folder)

    client.put_object(Bucket=second, Key="new-body.css", Body=b"changed", ContentType="text/css")
    client.copy_object(
        Bucket=second,
        Key="new-headers.css",
        CopySource={"Bucket": second, "Key": "new-headers.css"},
        MetadataDirective="REPLACE",
        ContentType="text/css",
        CacheControl="max-age=60",
        ACL="public-read",
    )
    client.put_object(Bucket=second, Key="added.css", Body=b"added")
    fetched = []
    for call in ("GetObject", "GetObjectAcl"):
        client.meta.events.register(
            f"before-call.s3.{call}", lambda params, **_: fetched.append(params["url_path"])
        )
    assert save_bucket(client, second, folder, restored) == 4
    assert sorted(fetched) == sorted(
        f"/{key}{suffix}"
        for key in ("new-body.css", "new-headers.css", "added.css")
        for suffix in ("", "?acl")
    )

    restore_bucket(client, third, folder)
    same = client.get_object(Bucket=third, Key="same.css")
    assert (same["Body"].read(), same["ContentType"]) == (b"same.css", "text/css")
    grants = client.get_object_acl(Bucket=third, Key="same.css")["Grants"]
    assert any(grant["Grantee"].get("URI", "").endswith("AllUsers") for grant in grants)
    assert client.get_object(Bucket=third, Key="new-body.css")["Body"].read() == b"changed"
    assert client.get_object(Bucket=third, Key="new-headers.css")["CacheControl"] == "max-age=60"


def test_only_the_buildpack_s_names_pass_from_the_shell(config_vars, bucket, tmp_path):
    """A bucket named in the shell is used with the AWS_* names the buildpack reads; the shell's
    other AWS_* names stay out (a profile that does not exist would break boto3 in the build),
    and a HEROKUIFY_* switch is named as not passed. Nothing is kept locally."""
    state = tmp_path / "state"
    done = local_build(
        FIXTURES / "minimal",
        "--state-dir",
        state,
        **config_vars,
        AWS_CA_BUNDLE=str(tmp_path / "no-such-bundle.pem"),
        AWS_PROFILE="no-such-profile",
        HEROKUIFY_HASHED_NAMES="1",
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    config_line = next(line for line in done.stdout.splitlines() if "Config vars:" in line)
    assert f"AWS_STORAGE_BUCKET_NAME={bucket}" in config_line
    assert f"AWS_S3_ENDPOINT_URL={config_vars['AWS_S3_ENDPOINT_URL']}" in config_line
    for name in ("AWS_CA_BUNDLE", "AWS_PROFILE", "HEROKUIFY_HASHED_NAMES"):
        assert name not in config_line
    assert (
        " !     Not passed from the shell: HEROKUIFY_HASHED_NAMES. A build sees only its config "
        "vars: pass each with --env NAME=VALUE, as `heroku config:set` would.\n"
    ) in done.stdout
    assert not state.exists()


def test_requested_python(tmp_path):
    assert requested_python(tmp_path) is None
    (tmp_path / "runtime.txt").write_text("python-3.12.3\n")
    assert requested_python(tmp_path) == PythonRequest("3.12", "runtime.txt")
    (tmp_path / ".python-version").write_text("# the app's\n3.13\n")
    assert requested_python(tmp_path) == PythonRequest("3.13", ".python-version")
    (tmp_path / ".python-version").write_text("latest\n")
    with pytest.raises(ValueError, match="'latest', not a Python version"):
        requested_python(tmp_path)


def line_starting(output: str, start: str) -> str:
    found = [line for line in output.splitlines() if line.startswith(start)]
    assert len(found) == 1, output
    return found[0]


def test_local_build_runs_heroku_s_own_heroku_python(tmp_path):
    """With a Python it can serve, the rehearsal is what Heroku will run: its heroku/python,
    whose download of Python 3.12 is answered from this machine's."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "minimal", app)
    (app / ".python-version").write_text("3.12\n")
    done = local_build(app, "--state-dir", tmp_path / "state", "--keep")
    build_dir = re.search(r"BUILD_DIR (\S+) \(kept\)", done.stdout)
    try:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        line_starting(done.stdout, "-----> heroku/python: Heroku's own buildpack, from ")
        assert "-----> Using Python 3.12 specified in .python-version" in done.stdout
        # Downloaded, from this machine's Python; or restored from the seed of an earlier
        # build of the same requirements, as a redeploy's cache is.
        served = r"\(here: Python 3\.12\.\d+ is served from this machine's 3\.12\."
        cached = r"Using cached install of Python 3\.12\.\d+"
        assert re.search(served, done.stdout) or re.search(cached, done.stdout), done.stdout
        assert build_dir, done.stdout
        assert (Path(build_dir[1]) / ".heroku" / "python" / "lib" / "python3.12").is_dir()
    finally:
        if build_dir:  # the folder --keep kept, which holds BUILD_DIR
            shutil.rmtree(Path(build_dir[1]).parent)


def test_a_python_heroku_would_install_but_this_machine_lacks_falls_back_to_the_stand_in(
    tmp_path,
):
    """No .python-version: heroku/python's default (3.14 in v351), which pyenv does not have
    here. The build says so in one line and runs after the stand-in."""
    done = local_build(FIXTURES / "minimal", "--state-dir", tmp_path / "state")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    said = line_starting(done.stdout, " !     Building after heroku/python's stand-in: ")
    assert "it would install Python 3.14 (its default), which is not on this machine" in said
    assert "-----> Python app detected (stand-in for heroku/python)" in done.stdout


@pytest.mark.parametrize(
    ("name", "text"), [(".python-version", "3.99\n"), ("runtime.txt", "python-3.99.1\n")]
)
def test_python_not_installed_fails_in_one_line(tmp_path, name, text):
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "minimal", app)
    (app / name).write_text(text)
    done = local_build(app, "--state-dir", tmp_path / "state")
    assert done.returncode == 1
    assert done.stdout == (
        "-----> Not in a git repository: building the folder as it is, less .git, __pycache__, "
        "staticfiles, *.sqlite3, .venv\n"
        f"{DISABLED_LINE}"
        " !     Building after heroku/python's stand-in: it would install Python 3.99 (the app's "
        f"{name} asks for it), which is not on this machine. Pin a Python you have in "
        ".python-version\n"
        f" !     The app's {name} asks for Python 3.99, which is not installed here: "
        "pyenv install 3.99, or pass --python PATH\n"
    )


def test_local_build_rehearses_a_promotion(tmp_path):
    """`script/local-build APP --promote-to BUCKET`: the slug, built into the app's local
    bucket, released to another, as a pipeline promotes it; doctor then finds every file of the
    release there."""
    done = local_build(
        FIXTURES / "compressor", "--state-dir", tmp_path / "state", "--promote-to", "production"
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "-----> Promoting the slug to bucket production: its release phase, then doctor" in (
        done.stdout
    )
    assert "publishing this slug's static files to s3://production/static/" in done.stdout
    assert re.search(r"ok   release: all \d+ files of this slug are in the bucket", done.stdout)
    assert "release phase 0" in done.stdout


def test_local_build_rehearses_a_rollback(tmp_path):
    """`--release-slug BUILD_DIR`: v1's slug, kept by --keep, released again after v2 changed
    a stylesheet, as `heroku rollback` releases it: its release phase sends v1's stylesheet back,
    and doctor finds every file of v1's release in the bucket."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "compressor", app, ignore=shutil.ignore_patterns("__pycache__"))
    state = tmp_path / "state"
    v1 = local_build(app, "--state-dir", state, "--keep")
    slug = re.search(r"BUILD_DIR (\S+) \(kept\)", v1.stdout)
    try:
        assert v1.returncode == 0 and slug, v1.stdout[-3000:] + v1.stderr[-3000:]
        (app / "shop_site" / "static" / "shop" / "base.css").write_text("body { color: red }\n")
        v2 = local_build(app, "--state-dir", state)
        assert v2.returncode == 0, v2.stdout[-3000:] + v2.stderr[-3000:]
        rollback = local_build(app, "--state-dir", state, "--release-slug", slug[1])
        assert rollback.returncode == 0, rollback.stdout[-3000:] + rollback.stderr[-3000:]
        assert "-----> herokuify release: publishing this slug's static files" in rollback.stdout
        assert re.search(r"herokuify release: [1-9]\d* files? uploaded", rollback.stdout)
        assert re.search(r"ok   release: all \d+ files of this slug", rollback.stdout)
    finally:
        if slug:
            shutil.rmtree(Path(slug[1]).parent)


# What a push sends (pushed.py), and what Heroku removes of it before the buildpacks
# (.slugignore, slugignore.py).

SLUGIGNORE = """\
# a comment, then a blank line

*.psd
/docs
notes/
assets/**/raw
!keep.psd
"""


def test_slugignore_follows_gitignore_s_rules_but_negation(tmp_path):
    """Heroku's "Slug Compiler" article: the format of .gitignore, without `!` patterns."""
    for name in (
        "art.psd", "keep.psd", "deep/er/art.psd",  # no slash: at any depth
        "docs/index.md", "app/docs/kept.md",  # a leading slash: at the root only
        "notes/a.txt", "app/notes/b.txt", "notes.txt",  # a trailing slash: directories only
        "assets/raw/x", "assets/a/b/raw/y", "assets/kept/z", "raw/kept",
        "app/views.py",
    ):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    (tmp_path / ".slugignore").write_text(SLUGIGNORE)
    pruned = prune(tmp_path)
    assert pruned is not None
    assert sorted(pruned.removed) == [
        "app/notes", "art.psd", "assets/a/b/raw", "assets/raw", "deep/er/art.psd", "docs",
        "keep.psd", "notes",
    ]  # fmt: skip
    assert pruned.negations == ["!keep.psd"]
    left = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())
    assert left == [
        ".slugignore", "app/docs/kept.md", "app/views.py", "assets/kept/z", "notes.txt",
        "raw/kept",
    ]  # fmt: skip
    assert prune(tmp_path / "app") is None  # no .slugignore: nothing to do


def an_app_under_git(tmp_path: Path, run_in) -> Path:
    """The minimal app, committed with a .slugignore and a collected staticfiles/, then an
    uncommitted file, a changed one and a file .gitignore names."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "minimal", app, ignore=localbuild.not_pushed)
    (app / "staticfiles" / "committed").mkdir(parents=True)
    (app / "staticfiles" / "committed" / "site.css").write_text("body {}\n")
    (app / "docs").mkdir()
    (app / "docs" / "design.psd").write_text("big")
    (app / "cover.psd").write_text("big")
    (app / ".slugignore").write_text("*.psd\n/docs\n")
    (app / ".gitignore").write_text("*.log\n")
    run_in(app, "git init -q && git add -A && git commit -qm app")
    (app / "uncommitted.txt").write_text("not pushed")
    (app / "requirements.txt").write_text("changed, not committed\n")
    (app / "debug.log").write_text("ignored")
    return app


def test_a_local_build_builds_what_a_push_sends(standins, tmp_path, fake_bp, run_in):
    """HEAD, less what .slugignore names: a committed staticfiles/ stays, as on Heroku, and
    neither an uncommitted file nor an uncommitted change is built. --worktree builds them."""
    app = an_app_under_git(tmp_path, run_in)
    standin = standins("minimal")
    said = write_pushed(app, tmp_path / "head")
    assert said.startswith("-----> Building HEAD (")
    assert said.endswith(", as git push sends it: uncommitted changes are left out "
                         "(--worktree builds them)")  # fmt: skip
    head = build_app(
        tmp_path / "head", {}, standin, workdir=tmp_path / "w1", buildpack_dir=fake_bp, ignore=None
    )
    assert head.ok, head.output
    assert "-----> Deleting 2 files matching .slugignore patterns.\n" in head.output
    assert (head.build_dir / "staticfiles" / "committed" / "site.css").is_file()
    assert (head.build_dir / "requirements.txt").read_text().startswith("Django")
    for gone in ("uncommitted.txt", "debug.log", "docs", "cover.psd", ".git"):
        assert not (head.build_dir / gone).exists(), gone

    said = write_pushed(app, tmp_path / "worktree", worktree=True)
    assert said == ("-----> Building the working tree, uncommitted changes included "
                    "(--worktree), less what .gitignore names")  # fmt: skip
    worktree = tmp_path / "worktree"
    assert (worktree / "uncommitted.txt").read_text() == "not pushed"
    assert (worktree / "requirements.txt").read_text() == "changed, not committed\n"
    assert (worktree / "staticfiles" / "committed" / "site.css").is_file()
    assert not (worktree / "debug.log").exists() and not (worktree / ".git").exists()


def test_an_app_in_a_subfolder_of_its_repository_is_that_folder_of_head(tmp_path, run_in):
    repo = tmp_path / "repo"
    (repo / "backend").mkdir(parents=True)
    (repo / "backend" / "requirements.txt").write_text("Django\n")
    (repo / "README").write_text("not the app's")
    run_in(repo, "git init -q && git add -A && git commit -qm app")
    said = write_pushed(repo / "backend", tmp_path / "pushed")
    assert "Building backend/ of HEAD (" in said
    assert "as git subtree push --prefix backend sends it" in said
    assert sorted(path.name for path in (tmp_path / "pushed").iterdir()) == ["requirements.txt"]


def test_a_repository_with_no_commit_has_nothing_to_push(tmp_path, run_in):
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "minimal", app, ignore=localbuild.not_pushed)
    run_in(app, "git init -q")
    done = local_build(app, "--state-dir", tmp_path / "state")
    assert done.returncode == 1
    assert done.stdout.endswith(
        f" !     The git repository {app} has no commit yet: commit the app (a push sends "
        "HEAD), or pass --worktree to build the files as they are\n"
    )
    said = write_pushed(tmp_path / "app", tmp_path / "worktree", worktree=True)
    assert said.startswith("-----> Building the working tree")


QUICKSTART_REQUIREMENTS = (
    "printf '%s\\n' 'django-storages[s3]>=1.14' 'boto3>=1.28' 'awscrt>=0.38' >> requirements.txt"
)
DISABLED_LINE = (
    "-----> DISABLE_COLLECTSTATIC=1, as the quickstart sets it: heroku/python's own "
    "collectstatic is skipped (--env DISABLE_COLLECTSTATIC=0 runs it)\n"
)


def test_a_fresh_startproject_app_builds_as_the_quickstart_configures_heroku(
    startproject_app, run_in, tmp_path, readme_block
):
    """The README's path on a fresh app: the quickstart's requirements and .python-version,
    committed, then `script/local-build APP`. heroku/python's own collectstatic, which fails
    without STATIC_ROOT, is off as the quickstart's config:set turns it off, and one line says
    so; --env DISABLE_COLLECTSTATIC=0 turns it back on."""
    app = startproject_app
    run_in(app, f"{QUICKSTART_REQUIREMENTS} && echo 3.13 > .python-version")
    run_in(app, "git add -A && git commit -qm 'Static and media on S3'")
    (app / "uncommitted.txt").write_text("not pushed")
    state = tmp_path / "state"
    done = local_build(app, *readme_local_build(readme_block), "--state-dir", state, "--keep")
    build_dir = re.search(r"BUILD_DIR (\S+) \(kept\)", done.stdout)
    try:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert done.stdout.count(DISABLED_LINE) == 1
        line_starting(done.stdout, "-----> Building HEAD (")
        assert "DISABLE_COLLECTSTATIC=1" in line_starting(done.stdout, "-----> Config vars: ")
        assert "Skipping Django collectstatic since the env var DISABLE_COLLECTSTATIC is set." in (
            done.stdout
        )
        assert re.search(r"-----> Done: [1-9]\d* files uploaded", done.stdout)
        assert build_dir and not (Path(build_dir[1]) / "uncommitted.txt").exists()
    finally:
        if build_dir:
            shutil.rmtree(Path(build_dir[1]).parent)

    run_in(app, "git rm -q --cached uncommitted.txt 2>/dev/null || true")
    again = local_build(app, "--state-dir", state, "--env", "DISABLE_COLLECTSTATIC=0")
    assert again.returncode == 1
    assert DISABLED_LINE not in again.stdout
    assert "DISABLE_COLLECTSTATIC=0" in line_starting(again.stdout, "-----> Config vars: ")
    assert " !     Error: Unable to generate Django static files." in again.stdout


def test_local_doctor_apply_adds_the_lifecycle_rule_and_the_local_bucket_keeps_it(
    tmp_path, readme_block
):
    """`--doctor --apply` against the local S3 server: the lifecycle check fails on a new
    bucket, --apply adds the rule, doctor passes; the next run's bucket still has it."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "minimal", app, ignore=localbuild.not_pushed)
    state = tmp_path / "state"
    applied = local_build(app, *readme_local_build(readme_block, "--apply"), "--state-dir", state)
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    before, after = applied.stdout.split("-----> Checking again\n")
    assert "FAIL lifecycle: no rule aborts incomplete multipart uploads" in before
    assert "-----> Applying\n       added a lifecycle rule that aborts multipart uploads" in before
    assert "ok   lifecycle: incomplete multipart uploads are aborted" in after
    assert "FAIL" not in after

    redeploy = local_build(app, "--state-dir", state, "--doctor")
    assert redeploy.returncode == 0, redeploy.stdout[-3000:] + redeploy.stderr[-3000:]
    assert "ok   lifecycle: incomplete multipart uploads are aborted" in redeploy.stdout
    assert "FAIL" not in redeploy.stdout and "Applying" not in redeploy.stdout

    alone = local_build(app, "--state-dir", state, "--apply")
    assert alone.returncode == 2
    assert "--apply goes with --doctor" in alone.stderr


def test_serve_runs_the_slug_as_a_web_dyno_until_ctrl_c(font_app, run_in, tmp_path, readme_block):
    """`script/local-build APP --serve`: the page the URL it prints serves answers 200, and in
    Chromium every asset loads from the local S3 server, the web font across origins too.
    Ctrl-C, as a terminal sends it to its foreground group, stops the dyno and the server,
    and the bucket is kept."""
    run_in(font_app, "git init -q && git add -A && git commit -qm app")
    with subprocess.Popen(
        [sys.executable, "-m", "herokuify_dev.localbuild", font_app, "--state-dir",
         tmp_path / "state", *readme_local_build(readme_block, "--serve")],
        cwd=REPO, env={**SHELL, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # a group of its own, as a terminal's foreground job has
    ) as run:  # fmt: skip
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=read_lines, args=(run.stdout, lines), daemon=True)
        reader.start()
        try:
            shown = until_line(lines, "-----> Serving at ", timeout=900)
            url = re.search(r"Serving at (\S+) until Ctrl-C", shown[-1])[1]
            s3_url = re.search(r"Local S3 \(moto\) at (\S+),", "".join(shown))[1]
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200
                page = response.read().decode()
            assets = [link for link in asset_urls(page) if link.startswith("http")]
            assert len(assets) >= 3 and all(link.startswith(s3_url) for link in assets), assets
            seen = load_page(url)
            os.killpg(run.pid, signal.SIGINT)
            run.wait(timeout=120)
            reader.join(timeout=30)
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
    output = "".join(shown) + "".join(iter(lines.get_nowait, None))
    assert seen.title == "fonts:loaded", (seen.title, seen.console, output[-3000:])
    assert seen.console == []
    assert run.returncode == 0, output[-3000:]
    assert '"GET / HTTP/1.1" 200' in output  # web.1's log, as it came
    assert "-----> Stopped web.1\n" in output
    assert "kept for the next run in" in output
    for stopped in (url, s3_url):
        with pytest.raises(OSError):
            urllib.request.urlopen(stopped, timeout=5)


def read_lines(stream, lines: queue.Queue[str | None]) -> None:
    """Each line of ``stream`` into ``lines``, then None at its end."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def until_line(lines: queue.Queue[str | None], start: str, timeout: float) -> list[str]:
    """The lines read until one that starts with ``start``, that one last."""
    deadline = time.monotonic() + timeout
    shown: list[str] = []
    while not shown or not shown[-1].startswith(start):
        line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
        assert line is not None, "".join(shown)[-5000:]  # it ended first
        shown.append(line)
    return shown
