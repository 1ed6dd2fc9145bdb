"""Hostile and odd input: strange file names, empty and huge files, links out of the app, files
that cannot be read, awkward STATIC_ROOTs, malformed config vars and ENV_DIR entries.

Each case builds a modified copy of the minimal app through bin/* against the real moto server
and checks the exact outcome: a successful build whose files are in the bucket under the exact
keys (and whose URLs, as the dyno's Django renders them, answer), or one ` !     herokuify: `
line that names the culprit, with nothing in the bucket.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import unicodedata
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from herokuify_buildpack.upload.etag import expected_etag
from herokuify_dev.dyno import run_one_off
from herokuify_dev.envdir import write_env_dir
from herokuify_dev.localbuild import build_app, next_compile, platform_step
from herokuify_dev.transcript import Transcript

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "test-fixtures"
STATIC = Path("minimal_site") / "static" / "minimal"  # the minimal app's static folder
SETTINGS = Path("minimal_site") / "settings.py"
STATIC_ROOT_LINE = 'STATIC_ROOT = BASE_DIR / "staticfiles"\n'
ERROR_PREFIX = " !     herokuify: "
RECORDS = "static/.herokuify/"  # release records: the build's own objects, not the app's files
MAX_KEY_BYTES = 1024  # S3's limit on a key's length
MIB = 1024 * 1024
# Seconds a build given a special file may take before it counts as hung.
SPECIAL_FILE_TIMEOUT = 20


# Helpers ------------------------------------------------------------------------------------


def minimal_copy(tmp_path: Path, name: str = "app") -> Path:
    """A fresh copy of the minimal app to modify; builds copy it again into BUILD_DIR."""
    app = tmp_path / name
    shutil.copytree(FIXTURES / "minimal", app, ignore=shutil.ignore_patterns("__pycache__"))
    return app


def edit_settings(app: Path, old: str, new: str) -> None:
    path = app / SETTINGS
    text = path.read_text()
    assert old in text, f"the fixture's settings changed: no {old!r}"
    path.write_text(text.replace(old, new))


def bucket_objects(s3_client, bucket: str, prefix: str = "") -> dict[str, dict]:
    found = {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = item
    return found


def app_keys(s3_client, bucket: str) -> set[str]:
    """The keys of the app's static files: everything but the build's release records."""
    return {key for key in bucket_objects(s3_client, bucket) if not key.startswith(RECORDS)}


def local_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def tail(output: str) -> str:
    """The end of a build's output, for assertion messages."""
    return output[-4000:]


def herokuify_error(output: str) -> str:
    """The one herokuify error line of a failed build's output; there is no traceback."""
    lines = [line for line in output.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(lines) == 1, tail(output)
    assert "Traceback" not in output, tail(output)
    assert "unexpected" not in lines[0] and "Please report" not in lines[0], lines[0]
    return lines[0]


def failed_in_compile(result) -> str:
    shown = tail(result.output)
    assert not result.ok, shown
    assert result.returncodes == {"heroku/python": 0, "detect": 0, "compile": 1}, shown
    return herokuify_error(result.output)


def dyno_django(
    build_dir: Path, config_vars, names=(), cwd: Path | None = None, **extra_env
) -> dict:
    """Loads the slug's settings as a web dyno does (DYNO set, herokuify_settings) in the slug's
    Python, from ``cwd`` (a folder of the slug; its root by default), and returns STATIC_URL and
    staticfiles_storage.url(name) for each name."""
    code = (
        "import json, sys, django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.contrib.staticfiles.storage import staticfiles_storage as s\n"
        "names = json.load(sys.stdin)\n"
        "print(json.dumps({'STATIC_URL': settings.STATIC_URL, 'urls': [s.url(n) for n in names]}))"
    )
    env = {**config_vars, **extra_env, "DJANGO_SETTINGS_MODULE": "herokuify_settings"}
    folder = (cwd or build_dir).relative_to(build_dir).as_posix()
    proc = run_one_off(
        build_dir,
        env,
        f"cd {shlex.quote(folder)} && python -c {shlex.quote(code)}",
        input=json.dumps(list(names)),  # ASCII: \u escapes keep NFC and NFD apart
        process="web",
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def fetch(url: str) -> tuple[int, dict, bytes]:
    """An anonymous GET, as a browser makes it."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, dict(response.headers), response.read()


# 1. File names ------------------------------------------------------------------------------

NFC_NAME = unicodedata.normalize("NFC", "café.css")
NFD_NAME = unicodedata.normalize("NFD", "café.css")
LONG_NAME = "long-" + "n" * 191 + ".txt"  # 200 characters
DEEP_DIRS = "/".join(letter * 240 for letter in "abcd")
DEEP_PREFIX = f"static/minimal/{DEEP_DIRS}/"
DEEP_NAME = f"{DEEP_DIRS}/" + "z" * (MAX_KEY_BYTES - len(DEEP_PREFIX.encode()))  # key: 1024 bytes

# Names whose key must be exactly static/minimal/<name>, byte for byte.
EXACT_NAMES = [
    "with space.css",
    "100%.txt",
    "a+b.js",
    "hash#tag.css",
    "what?.txt",
    "semi;colon&and=equals,comma.txt",
    NFC_NAME,
    NFD_NAME,
    "smile \U0001f642.txt",
    LONG_NAME,
    DEEP_NAME,
]
# Django's Storage.save turns a backslash into a folder separator, and django-storages' URLs
# do the same, so the key and the URL agree on the folder form.
BACKSLASH_NAME = "back\\slash.css"
BACKSLASH_KEY = "static/minimal/back/slash.css"
# Django's default ignore patterns (".*", "*~") leave these out of collectstatic.
IGNORED_NAMES = [".hidden.css", "backup.css~"]


def test_odd_file_names_keep_their_exact_keys_and_urls(
    build, tmp_path, config_vars, s3_client, bucket
):
    """Spaces, %, +, #, ?, other punctuation, NFC and NFD spellings of the same word (two files),
    a 4-byte UTF-8 character, a 200-character name and a key of exactly 1024 bytes: each lands
    under its exact key, and the URL the dyno's Django renders for it answers with its bytes.
    # and ? must be percent-encoded, or the URL would end at them."""
    assert NFC_NAME != NFD_NAME
    assert len(LONG_NAME) == 200
    assert len(f"static/minimal/{DEEP_NAME}".encode()) == MAX_KEY_BYTES
    app = minimal_copy(tmp_path)
    for name in [*EXACT_NAMES, BACKSLASH_NAME, *IGNORED_NAMES]:
        path = app / STATIC / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode() + b"\n")  # distinct bytes for each name
    # The file system kept both spellings of café.css as two files.
    assert {NFC_NAME, NFD_NAME} <= set(os.listdir(app / STATIC))

    result = build(app, config_vars)
    assert result.ok, tail(result.output)

    objects = bucket_objects(s3_client, bucket, "static/minimal/")
    expected = {f"static/minimal/{name}": name for name in EXACT_NAMES}
    expected[BACKSLASH_KEY] = BACKSLASH_NAME
    fixture_keys = {f"static/minimal/{name}" for name in local_files(FIXTURES / "minimal" / STATIC)}
    assert set(objects) == set(expected) | fixture_keys
    for key, name in expected.items():
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == name.encode() + b"\n", key
    for name in IGNORED_NAMES:
        assert f"static/minimal/{name}" not in objects

    names = [f"minimal/{name}" for name in expected.values()]
    urls = dyno_django(result.build_dir, config_vars, names)["urls"]
    for (key, name), url in zip(expected.items(), urls, strict=True):
        parts = urlsplit(url)
        assert (parts.query, parts.fragment) == ("", ""), url
        assert unquote(parts.path) == f"/{bucket}/{key}", url
        assert url.isascii(), url
        status, _, body = fetch(url)
        assert (status, body) == (200, name.encode() + b"\n"), url


@pytest.mark.parametrize(
    ("name", "words"),
    [
        (DEEP_NAME + "z", "would be a key of 1025 bytes; S3 allows 1024. Shorten its path"),
        (os.fsdecode(b"caf\xe9.css"), r"minimal/caf\xe9.css has a name that is not UTF-8"),
    ],
    ids=["key-of-1025-bytes", "not-utf-8"],
)
def test_a_name_s3_cannot_take_fails_before_any_upload(
    build, tmp_path, config_vars, s3_client, bucket, name, words
):
    """S3 keys are UTF-8, at most 1024 bytes. A file whose key cannot be one stops the build
    with one line naming it, before anything is uploaded: not a failed upload halfway through."""
    app = minimal_copy(tmp_path)
    path = app / STATIC / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"body {}\n")

    result = build(app, {**config_vars, "DISABLE_COLLECTSTATIC": "1"})
    line = failed_in_compile(result)
    assert words in line, line
    assert bucket_objects(s3_client, bucket) == {}


# 2. Empty and large files -------------------------------------------------------------------

BIG_SIZE = 100 * MIB + 12_345  # not a whole number of parts


def write_big_file(path: Path, size: int) -> str:
    """Random bytes, quickly: one random MiB, with each MiB's first bytes made unique, so no two
    parts are alike. Returns the SHA-256."""
    block = os.urandom(MIB)
    digest = hashlib.sha256()
    with path.open("wb") as file:
        for index in range(0, size, MIB):
            chunk = (index.to_bytes(8, "big") + block[8:])[: size - index]
            digest.update(chunk)
            file.write(chunk)
    return digest.hexdigest()


def test_empty_files_and_a_100_mb_file(build, tmp_path, config_vars, s3_client, bucket):
    """Zero-byte files are objects of size 0 that answer 200 with Content-Length 0; a file over
    100 MB goes up in parts (its ETag ends in -N, and matches what the build computed, so the
    next deploy skips it) and comes back byte for byte."""
    app = minimal_copy(tmp_path)
    (app / STATIC / "empty.txt").write_bytes(b"")
    (app / STATIC / "nested").mkdir()
    (app / STATIC / "nested" / "empty.css").write_bytes(b"")
    big = app / STATIC / "big.bin"
    big_sha256 = write_big_file(big, BIG_SIZE)
    # The ETag S3 should answer for this file and the part size the uploads use.
    big_etag = expected_etag(big, BIG_SIZE)

    result = build(app, config_vars)
    assert result.ok, tail(result.output)
    objects = bucket_objects(s3_client, bucket, "static/minimal/")
    empty_md5 = hashlib.md5(b"", usedforsecurity=False).hexdigest()
    base = f"{config_vars['AWS_S3_ENDPOINT_URL']}/{bucket}/static/minimal/"
    for name in ("empty.txt", "nested/empty.css"):
        item = objects[f"static/minimal/{name}"]
        assert (item["Size"], item["ETag"].strip('"')) == (0, empty_md5), name
        status, headers, body = fetch(base + name)
        assert (status, headers["Content-Length"], body) == (200, "0", b""), name

    item = objects["static/minimal/big.bin"]
    etag = item["ETag"].strip('"')
    assert item["Size"] == BIG_SIZE
    assert re.fullmatch(r"[0-9a-f]{32}-\d+", etag) and int(etag.split("-")[1]) > 1, etag
    assert etag == big_etag
    digest = hashlib.sha256()
    with urllib.request.urlopen(base + "big.bin", timeout=60) as response:
        assert response.status == 200
        while chunk := response.read(MIB):
            digest.update(chunk)
    assert digest.hexdigest() == big_sha256


# 3. Links -----------------------------------------------------------------------------------


def deep_relative_link_to_passwd() -> str:
    """A relative link that climbs out of any build folder ("/.." is "/") to /etc/passwd."""
    return "../" * 40 + "etc/passwd"


@pytest.mark.parametrize(
    ("link", "target", "named"),
    [
        pytest.param("passwd.txt", "/etc/passwd", "minimal/passwd.txt", id="absolute"),
        pytest.param(
            "climb.txt", deep_relative_link_to_passwd(), "minimal/climb.txt", id="relative"
        ),
        pytest.param("outside", "{outside}", "minimal/outside/secret.txt", id="folder"),
    ],
)
def test_link_out_of_the_app_fails_and_publishes_nothing(
    build, tmp_path, config_vars, s3_client, bucket, link, target, named
):
    """A link (to a file, or to a folder) that leads out of the app would publish that file to the
    world: the build stops with one line naming the static file and where it leads."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for the bucket\n")
    app = minimal_copy(tmp_path)
    os.symlink(target.format(outside=outside), app / STATIC / link)
    resolved = (app / STATIC / named.removeprefix("minimal/")).resolve()
    assert not resolved.is_relative_to(tmp_path / "app")

    result = build(app, config_vars)
    line = failed_in_compile(result)
    assert f"static file {named} is a link to {resolved}, outside the app" in line, line
    assert bucket_objects(s3_client, bucket) == {}


def test_links_inside_the_app_are_published(build, tmp_path, config_vars, s3_client, bucket):
    """Links that stay in the app are fine: the linked file's bytes go up under the link's name,
    and a linked folder's files under the link's folder name."""
    app = minimal_copy(tmp_path)
    os.symlink("site.css", app / STATIC / "alias.css")
    os.symlink("../../../templates/index.html", app / STATIC / "page.html")
    os.symlink("vendor", app / STATIC / "vendor2")

    result = build(app, config_vars)
    assert result.ok, tail(result.output)
    expected = {
        "static/minimal/alias.css": app / STATIC / "site.css",
        "static/minimal/page.html": app / "templates" / "index.html",
        "static/minimal/vendor2/greet.js": app / STATIC / "vendor" / "greet.js",
    }
    for key, source in expected.items():
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == source.read_bytes(), key


# 4. Files that cannot be read ---------------------------------------------------------------


def test_dangling_link_fails_with_one_line(build, tmp_path, config_vars, s3_client, bucket):
    """Root reads mode-000 files, so a link to a missing file is what cannot be read here.
    heroku/python's own collectstatic would fail on it first (with a traceback), so it is off."""
    app = minimal_copy(tmp_path)
    os.symlink("gone.css", app / STATIC / "dangling.css")

    result = build(app, {**config_vars, "DISABLE_COLLECTSTATIC": "1"})
    line = failed_in_compile(result)
    assert "minimal/dangling.css" in line, line
    assert bucket_objects(s3_client, bucket) == {}


def test_symlink_loop_fails_with_one_line(build, tmp_path, config_vars, s3_client, bucket):
    """A folder link to itself (git stores it fine) makes the file finders loop until the OS
    says "Too many levels of symbolic links": that is bad input, not a crash to report."""
    app = minimal_copy(tmp_path)
    os.symlink(".", app / STATIC / "loop")

    result = build(app, {**config_vars, "DISABLE_COLLECTSTATIC": "1"})
    line = failed_in_compile(result)
    assert "minimal/loop" in line, line
    assert bucket_objects(s3_client, bucket) == {}


def compile_directly(tmp_path: Path, standin, config_vars, special: str) -> tuple[int | None, str]:
    """bin/compile on a build holding a special file in the static folder. Copying cannot carry
    one, so BUILD_DIR is made here and heroku/python's collectstatic is off (it would meet the
    file first). Returns the exit code, or None if the build hung and was killed, and output."""
    build_dir, cache_dir, env_dir = tmp_path / "build", tmp_path / "cache", tmp_path / "env"
    shutil.copytree(FIXTURES / "minimal", build_dir, ignore=shutil.ignore_patterns("__pycache__"))
    kind = {"fifo": stat.S_IFIFO, "socket": stat.S_IFSOCK}[special]
    os.mknod(build_dir / STATIC / f"{special}.css", kind | 0o644)
    step = platform_step(tmp_path, build_dir, cache_dir, env_dir, Transcript())
    standin.install_into(step)
    write_env_dir(env_dir, {**config_vars, "DISABLE_COLLECTSTATIC": "1"})
    command, env = next_compile(step)
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=SPECIAL_FILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole build: bin/compile and its Python
        out, _ = proc.communicate()
        return None, out
    return proc.returncode, out


@pytest.mark.parametrize("special", ["fifo", "socket"])
def test_special_file_fails_fast_with_one_line(
    tmp_path, standins, config_vars, s3_client, bucket, special
):
    """A named pipe or a socket in a static folder (left by an earlier buildpack) cannot be read
    as a file: the build must say so in one line, not hang on the pipe forever."""
    code, out = compile_directly(tmp_path, standins("minimal"), config_vars, special)
    assert code is not None, f"the build hung for {SPECIAL_FILE_TIMEOUT} s:\n{out}"
    assert code == 1, tail(out)
    line = herokuify_error(out)
    assert f"minimal/{special}.css" in line, line
    assert bucket_objects(s3_client, bucket) == {}


# 5. STATIC_ROOT -----------------------------------------------------------------------------


def test_stale_files_in_committed_static_root_are_cleared(
    build, tmp_path, config_vars, s3_client, bucket
):
    """STATIC_ROOT inside the repo, with a committed, outdated copy of a source: the build
    clears STATIC_ROOT first (and says how many files it removed: what heroku/python's
    collectstatic put there, the stale copy among them), so the bucket gets exactly this
    build's files. A committed file that no source makes is refused (test_static_root.py)."""
    app = minimal_copy(tmp_path)
    edit_settings(app, STATIC_ROOT_LINE, 'STATIC_ROOT = BASE_DIR / "public"\n')
    (app / "public" / "minimal").mkdir(parents=True)
    (app / "public" / "minimal" / "site.css").write_text("/* from an old deploy */\n")

    result = build(app, config_vars)
    assert result.ok, tail(result.output)
    collected = local_files(result.build_dir / "public")
    assert "minimal/site.css" in collected
    served = s3_client.get_object(Bucket=bucket, Key="static/minimal/site.css")["Body"].read()
    assert served == (app / STATIC / "site.css").read_bytes()
    cleared = re.findall(r"Cleared STATIC_ROOT of (\d+) files?", result.outputs["compile"])
    assert cleared == [str(len(collected))], result.outputs["compile"]
    assert app_keys(s3_client, bucket) == {f"static/{name}" for name in collected}


def test_an_apps_own_collectstatic_command_still_runs(
    build, tmp_path, config_vars, s3_client, bucket
):
    """The build runs a faster subclass of Django's collectstatic (build/collectstatic.py), but
    only in place of Django's own: an app that overrides the command keeps its override."""
    app = minimal_copy(tmp_path)
    commands = app / "overrider" / "management" / "commands"
    commands.mkdir(parents=True)
    for package in (app / "overrider", commands.parent, commands):
        (package / "__init__.py").write_text("")
    (commands / "collectstatic.py").write_text(
        "from django.contrib.staticfiles.management.commands import collectstatic\n\n\n"
        "class Command(collectstatic.Command):\n"
        "    def handle(self, **options):\n"
        "        self.stdout.write('overrider: the app collectstatic ran')\n"
        "        return super().handle(**options)\n"
    )
    edit_settings(app, "INSTALLED_APPS = [\n", 'INSTALLED_APPS = [\n    "overrider",\n')

    result = build(app, {**config_vars, "DISABLE_COLLECTSTATIC": "1"})
    assert result.ok, tail(result.output)
    assert "overrider: the app collectstatic ran" in result.outputs["compile"]
    collected = local_files(result.build_dir / "staticfiles")
    assert "minimal/site.css" in collected
    assert app_keys(s3_client, bucket) == {f"static/{name}" for name in collected}


def test_relative_static_root_is_found_by_a_dyno_started_elsewhere(
    build, tmp_path, config_vars, s3_client, bucket
):
    """STATIC_ROOT = "staticfiles": Django reads it from the current folder. The build collects
    from the app's root; a dyno that starts in another folder (gunicorn --pythonpath, say) must
    still find the hashed names' manifest there, or every page fails."""
    app = minimal_copy(tmp_path)
    edit_settings(app, STATIC_ROOT_LINE, 'STATIC_ROOT = "staticfiles"\n')
    hashed = {**config_vars, "HEROKUIFY_HASHED_NAMES": "1"}

    result = build(app, hashed)
    assert result.ok, tail(result.output)
    manifest = result.build_dir / "staticfiles" / "staticfiles.json"
    hashed_name = json.loads(manifest.read_text())["paths"]["minimal/site.css"]
    elsewhere = result.build_dir / "minimal_site"
    found = dyno_django(
        result.build_dir, hashed, ["minimal/site.css"], elsewhere, PYTHONPATH="/app"
    )
    assert found["urls"] == [f"{found['STATIC_URL']}{hashed_name}"]
    assert f"static/{hashed_name}" in app_keys(s3_client, bucket)


def test_unset_static_root_collects_beside_manage_py(
    build, tmp_path, config_vars, s3_client, bucket
):
    """No STATIC_ROOT in the app's settings: files go to staticfiles/ beside manage.py, then to
    the bucket. heroku/python's collectstatic refuses to run without STATIC_ROOT, so such an app
    sets DISABLE_COLLECTSTATIC=1."""
    app = minimal_copy(tmp_path)
    edit_settings(app, STATIC_ROOT_LINE, "")

    result = build(app, {**config_vars, "DISABLE_COLLECTSTATIC": "1"})
    assert result.ok, tail(result.output)
    assert "Cleared STATIC_ROOT" not in result.output
    collected = local_files(result.build_dir / "staticfiles")
    assert "minimal/site.css" in collected
    assert app_keys(s3_client, bucket) == {f"static/{name}" for name in collected}


@pytest.mark.parametrize(
    "static_root",
    [
        pytest.param("BASE_DIR", id="app-root"),
        pytest.param('BASE_DIR / "minimal_site" / "static"', id="app-static-folder"),
    ],
)
def test_static_root_over_the_apps_own_files_is_refused(
    build, tmp_path, config_vars, s3_client, bucket, static_root
):
    """The build clears STATIC_ROOT before collecting. A STATIC_ROOT that holds the app itself,
    or a folder the finders collect from, must be refused in one line, before anything is
    deleted: clearing it would wipe the app's code or its static sources."""
    app = minimal_copy(tmp_path)
    edit_settings(app, STATIC_ROOT_LINE, f"STATIC_ROOT = {static_root}\n")

    result = build(app, config_vars)
    line = failed_in_compile(result)
    assert "STATIC_ROOT" in line, line
    for kept in ("manage.py", SETTINGS, STATIC / "site.css", STATIC / "vendor" / "greet.js"):
        assert (result.build_dir / kept).is_file(), kept
    assert bucket_objects(s3_client, bucket) == {}


# 6. Bucket, custom domain -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ab", "my..bucket", "192.168.0.1", "trailing-", "a" * 64])
def test_invalid_bucket_name_is_one_line(build, config_vars, s3_client, name):
    """Too short, two dots in a row, an IP address, a bad last character, too long."""
    overrides = {"AWS_STORAGE_BUCKET_NAME": name, "DISABLE_COLLECTSTATIC": "1"}
    result = build("minimal", {**config_vars, **overrides})
    line = failed_in_compile(result)
    assert f"AWS_STORAGE_BUCKET_NAME {name!r} is not a valid S3 bucket name" in line, line
    assert name not in [b["Name"] for b in s3_client.list_buckets()["Buckets"]]


def test_custom_domain_with_scheme_and_slash(build, config_vars, s3_client, bucket):
    """AWS_S3_CUSTOM_DOMAIN as people paste it ("https://cdn.example.com/") and an endpoint
    with a trailing slash are both accepted; the dyno's STATIC_URL and static URLs use the bare
    host whichever way the domain is spelt, with any path kept."""
    domain = {"AWS_S3_CUSTOM_DOMAIN": "https://cdn.example.com/"}
    endpoint = {"AWS_S3_ENDPOINT_URL": config_vars["AWS_S3_ENDPOINT_URL"] + "/"}
    result = build("minimal", {**config_vars, **domain, **endpoint})
    assert result.ok, tail(result.output)
    assert "static/minimal/site.css" in app_keys(s3_client, bucket)

    spellings = {
        "https://cdn.example.com/": "https://cdn.example.com/static/",
        "cdn.example.com": "https://cdn.example.com/static/",
        "//cdn.example.com//": "https://cdn.example.com/static/",
        "HTTPS://cdn.example.com": "https://cdn.example.com/static/",
        " https://cdn.example.com/assets/ ": "https://cdn.example.com/assets/static/",
    }
    for spelling, static_url in spellings.items():
        seen = dyno_django(
            result.build_dir, {**config_vars, **endpoint}, ["minimal/site.css"],
            AWS_S3_CUSTOM_DOMAIN=spelling,
        )  # fmt: skip
        assert seen == {"STATIC_URL": static_url, "urls": [static_url + "minimal/site.css"]}


# 7. ENV_DIR entries -------------------------------------------------------------------------

BAD_NAMES = ["1BAD", "HAS-DASH", "with space", "NEW\nLINE", os.fsdecode(b"BYTE\xff")]


def test_odd_env_dir_entries_are_ignored_one_line_each(
    tmp_path, standins, config_vars, s3_client, bucket
):
    """Names that are not identifiers, a folder, a link (to a value that would change the
    uploads' Cache-Control) and a name the platform owns: the build goes on, says in one line
    each what it ignored, and the linked value has no effect. The ENV_DIR entries are made in
    the work folder before build_app writes the config vars beside them."""
    workdir = tmp_path / "work"
    env_dir = workdir / "env"
    env_dir.mkdir(parents=True)
    (env_dir / "SOME_DIR").mkdir()
    (env_dir / "SOME_DIR" / "value").write_text("x")
    (tmp_path / "max_age").write_text("7")
    os.symlink(tmp_path / "max_age", env_dir / "HEROKUIFY_STATIC_MAX_AGE")
    odd = {name: "x" for name in BAD_NAMES}
    odd["PYTHONPATH"] = "/nonexistent-herokuify-test"

    result = build_app(
        FIXTURES / "minimal",
        {**config_vars, **odd},
        standins("minimal"),
        workdir=workdir,
        stream=Transcript(),
    )
    assert result.env_dir == env_dir
    assert result.ok, tail(result.output)
    said = [
        line.strip()
        for line in result.outputs["compile"].splitlines()
        if "Ignoring a config var:" in line
    ]
    expected = [f"{name!r} is not a valid environment variable name" for name in BAD_NAMES]
    expected += [
        "SOME_DIR is not a regular file in ENV_DIR",
        "HEROKUIFY_STATIC_MAX_AGE is not a regular file in ENV_DIR",
        "PYTHONPATH is set by the platform, not by config vars",
    ]
    assert sorted(said) == sorted(f"Ignoring a config var: {reason}" for reason in expected)
    head = s3_client.head_object(Bucket=bucket, Key="static/minimal/site.css")
    assert head["CacheControl"] == "public, max-age=300"


# 8. DJANGO_SETTINGS_MODULE (not dotted, outside the app: see test_bad_input.py) ---------------


@pytest.mark.parametrize(
    ("module", "words"),
    [
        pytest.param(
            "herokuify_settings",
            ["DJANGO_SETTINGS_MODULE names the generated herokuify_settings"],
            id="generated-module",
        ),
        pytest.param(
            "minimal_site.settings.py",
            ["minimal_site.settings.py", "there is no minimal_site/settings/py.py"],
            id="dot-py",
        ),
    ],
)
def test_odd_settings_module_is_one_line(build, config_vars, s3_client, bucket, module, words):
    """The generated module itself (it would import itself), and a module path with ".py" on
    the end (its package is in the app, but no such file is): one line each."""
    overrides = {"DJANGO_SETTINGS_MODULE": module, "DISABLE_COLLECTSTATIC": "1"}
    result = build("minimal", {**config_vars, **overrides})
    line = failed_in_compile(result)
    for word in words:
        assert word in line, line
    assert bucket_objects(s3_client, bucket) == {}
