import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from herokuify_dev import localbuild
from herokuify_dev.dyno import run_one_off
from herokuify_dev.envdir import read_env_dir, write_env_dir
from herokuify_dev.localbuild import build_app
from herokuify_dev.localstate import AppState, restore_bucket, save_bucket
from herokuify_dev.pythons import PythonRequest, requested_python
from herokuify_dev.s3server import make_client
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
def test_local_build_on_another_platform(platform, config_vars, s3_client, bucket):
    """The README's `script/local-build --platform ...`, against the session's S3 server."""
    env_args = [arg for name, value in config_vars.items() for arg in ("--env", f"{name}={value}")]
    platform_args = ["--platform", platform, *env_args]
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
    compressor app, whose bundles hold the bucket's URL: the local server keeps its port too."""
    state = tmp_path / "state"
    first = local_build(FIXTURES / "compressor", "--state-dir", state)
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
