"""Shared fixtures: one S3 server per session, heroku/python (Heroku's own, and its stand-in,
whose installs are made once), and build helpers.

End-to-end tests build the sample apps through bin/* as the platform does, against a real moto
server on loopback, with each supported Django series: after Heroku's own heroku/python where a
test says ``python="heroku"``, else after the stand-in, which leaves the same slug faster.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from herokuify_dev.herokupython import (
    WHERE_IT_IS,
    CacheSeeds,
    PythonBuildpack,
    RealHerokuPython,
    ReusedHerokuPython,
    serving_runtimes,
    vendored_buildpack,
)
from herokuify_dev.localbuild import BuildResult, build_app, not_pushed
from herokuify_dev.pyruntime import RuntimeServer
from herokuify_dev.pythons import python_for
from herokuify_dev.s3server import (
    FAKE_ACCESS_KEY_ID,
    FAKE_SECRET_ACCESS_KEY,
    S3Server,
    make_client,
    running_s3_server,
)
from herokuify_dev.standin import StandIn
from herokuify_dev.transcript import Transcript

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "test-fixtures"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}
FONT_FAMILY = "HerokuifyProbe"
# Sets the title once the page has loaded and the font has, or failed to: what --dump-dom shows.
# An asset that failed to load (ASSET_PROBE) comes first.
FONT_PROBE = f"""<script>
addEventListener("load", () => document.fonts.load('16px "{FONT_FAMILY}"').then(
  (faces) => {{ document.title = window.failedAssets.length
    ? "failed: " + window.failedAssets.join(" ")
    : faces.length ? "fonts:loaded" : "fonts:none"; }},
  () => {{ document.title = "fonts:failed"; }}));
</script>
</body>"""
# First in <head>, so that it hears every stylesheet, script and image that fails to load (403,
# 404, a refused connection): their error events do not bubble, but are captured.
ASSET_PROBE = """<head>
<script>
window.failedAssets = [];
addEventListener("error", (event) => {
  if (event.target !== window) window.failedAssets.push(event.target.src || event.target.href);
}, true);
</script>"""

# Each supported Django series: its pip constraint and the Python it runs on here.
DJANGO_SERIES = {
    "3.2": ("Django>=3.2,<3.3", "3.11"),
    "4.1": ("Django>=4.1,<4.2", "3.11"),
    "4.2": ("Django>=4.2,<4.3", "3.11"),
    "5.2": ("Django>=5.2,<5.3", "3.11"),
    "6": ("Django>=6.0,<7", "3.12"),
}
# Below the supported floor, for the test that the build refuses it in one line.
OLD_DJANGO_SERIES = {"3.1": ("Django>=3.1,<3.2", "3.11")}
# A supported Django on a Python it cannot import on (cgi is gone from 3.13), as on a platform
# whose default Python is newer than the app's Django.
MISMATCHED_SERIES = {"3.2-on-3.13": ("Django>=3.2,<3.3", "3.13")}


# How long each test took in a full run (tests/python/durations.json): the run starts the longest
# first, so that no long test is left to end it alone on 2 cores. A test it does not name, a new
# one, goes first of all. Refreshed by `script/test --save-durations`.
DURATIONS = Path(__file__).with_name("durations.json")
_measured: dict[str, float] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--save-durations",
        action="store_true",
        help=f"write each test's seconds to {DURATIONS.name}, which orders later runs",
    )


def _recorded_durations() -> dict[str, float]:
    return json.loads(DURATIONS.read_text()) if DURATIONS.is_file() else {}


@pytest.hookimpl(trylast=True)  # after pytest's own ordering, which ties keep (a stable sort)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    known = _recorded_durations()
    items.sort(key=lambda item: -known.get(item.nodeid, float("inf")))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _measured[report.nodeid] = _measured.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Under xdist the controller hears every worker's reports; a worker writes nothing.
    if session.config.getoption("save_durations") and not hasattr(session.config, "workerinput"):
        measured = {nodeid: round(took, 1) for nodeid, took in _measured.items()}
        merged = {**_recorded_durations(), **measured}
        ordered = dict(sorted(merged.items(), key=lambda entry: -entry[1]))
        DURATIONS.write_text(json.dumps(ordered, indent=0) + "\n")


@pytest.fixture(scope="session")
def runtimes() -> Iterator[RuntimeServer]:
    """Heroku's Python runtimes, made from this machine's Pythons, where heroku/python asks."""
    with serving_runtimes(heroku_python_source()) as server:
        yield server


def heroku_python_source() -> Path:
    found = vendored_buildpack()
    if found is None:
        pytest.fail(f"Heroku's heroku-buildpack-python is not on this machine ({WHERE_IT_IS})")
    return found


@pytest.fixture(scope="session")
def heroku_python(runtimes: RuntimeServer) -> RealHerokuPython:
    """Heroku's own heroku/python, unmodified; a new CACHE_DIR starts from the last build of
    the same requirements, so that pip downloads nothing again."""
    return RealHerokuPython(heroku_python_source(), runtimes, CacheSeeds())


@pytest.fixture(scope="session")
def reused_heroku_python(heroku_python: RealHerokuPython, tmp_path_factory) -> ReusedHerokuPython:
    """heroku/python run once per set of requirements in this worker, for the fault tests'
    many builds of one app: ``build(..., python="heroku-reused")``."""
    return ReusedHerokuPython(heroku_python, tmp_path_factory.mktemp("heroku-python-results"))


@pytest.fixture(scope="session")
def script_buildpack(tmp_path_factory) -> Callable[[str, Mapping[str, str]], Path]:
    """script_buildpack(name, {"detect": text, ...}) -> a buildpack whose bin/ holds those
    scripts, for tests of what the platform gives a buildpack."""

    def make(name: str, scripts: Mapping[str, str]) -> Path:
        root = tmp_path_factory.mktemp(name)
        (root / "bin").mkdir()
        for script, text in scripts.items():
            (root / "bin" / script).write_text(text)
            (root / "bin" / script).chmod(0o755)
        return root

    return make


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with running_s3_server() as server:
        yield server


@pytest.fixture
def s3_client(s3_server: S3Server):
    return make_client(s3_server.endpoint_url)


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    """A new bucket for each test, so tests never see each other's objects."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(name)
    return name


@pytest.fixture
def config_vars(s3_server: S3Server, bucket: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
        # Distinctive, so that every build can prove it never printed or wrote it.
        "AWS_SECRET_ACCESS_KEY": f"{FAKE_SECRET_ACCESS_KEY}-{uuid.uuid4().hex}",
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ENDPOINT_URL": s3_server.endpoint_url,
    }


@pytest.fixture(params=["crt", "botocore"])
def upload_client(request: pytest.FixtureRequest) -> dict[str, str]:
    """The config var that sends a build's uploads down each path (upload/sending.py); the
    compressor app installs awscrt, so both are open to it."""
    return {"HEROKUIFY_UPLOAD_CLIENT": request.param}


_standins: dict[tuple[str, str], StandIn] = {}


def standin_for(app: str, series: str = "5.2") -> StandIn:
    """The stand-in for heroku/python for an app and Django series; its venv is built once."""
    key = (app, series)
    if key not in _standins:
        constraint, python = {**DJANGO_SERIES, **OLD_DJANGO_SERIES, **MISMATCHED_SERIES}[series]
        _standins[key] = StandIn(FIXTURES / app, python=python_for(python), django=constraint)
    return _standins[key]


@pytest.fixture(scope="session")
def standins() -> Callable[..., StandIn]:
    """standins(app, series="5.2") -> StandIn"""
    return standin_for


Build = Callable[..., BuildResult]


@pytest.fixture
def build(tmp_path: Path, request: pytest.FixtureRequest) -> Build:
    """build(app_or_dir, config_vars, series=None, cache_dir=None, python="standin",
    platform_env=None) -> BuildResult.

    Each call gets a fresh BUILD_DIR, as on the platform; pass an earlier result's cache_dir
    to redeploy. ``python="heroku"`` builds after Heroku's own heroku/python: given a series,
    the app, copied, asks for its Django and Python in requirements.txt and .python-version;
    without one, the app is built as it is. The stand-in's series defaults to 5.2.
    ``platform_env``: what the platform adds to the build's environment (see platform_step).
    """
    numbers = itertools.count(1)

    def run(
        app: str | Path,
        config_vars: Mapping[str, str | bytes],
        series: str | None = None,
        cache_dir: Path | None = None,
        python: str = "standin",
        platform_env: Mapping[str, str] | None = None,
    ) -> BuildResult:
        number = next(numbers)  # thread-safe: concurrent builds get their own folders
        app_dir = app if isinstance(app, Path) else FIXTURES / app
        workdir = tmp_path / f"build-{number}"
        python_buildpack: PythonBuildpack
        if python in ("heroku", "heroku-reused"):
            if series is not None:
                app_dir = app_for_series(app_dir, series, workdir / "source")
            fixture = "heroku_python" if python == "heroku" else "reused_heroku_python"
            python_buildpack = request.getfixturevalue(fixture)
        else:
            name = app_dir.name if isinstance(app, str) else "minimal"
            standin = standin_for(name, series or "5.2")
            if isinstance(app, Path):
                standin = StandIn(app_dir, python=standin.python, django=standin.django)
            python_buildpack = standin
        result = build_app(
            app_dir,
            config_vars,
            python_buildpack,
            cache_dir=cache_dir,
            workdir=workdir,
            stream=Transcript(),
            platform_env=platform_env,
        )
        assert_no_secret_leaked(result, config_vars)
        return result

    return run


@pytest.fixture(scope="session")
def series_app() -> Callable[[Path, str, Path], Path]:
    """series_app(app_dir, series, copy) -> the copy, as app_for_series makes it."""
    return app_for_series


def app_for_series(app_dir: Path, series: str, copy: Path) -> Path:
    """A copy of ``app_dir`` whose requirements.txt and .python-version ask heroku/python for
    the series' Django and Python."""
    constraint, python = {**DJANGO_SERIES, **OLD_DJANGO_SERIES, **MISMATCHED_SERIES}[series]
    shutil.copytree(app_dir, copy, symlinks=True, ignore=not_pushed)
    requirements = copy / "requirements.txt"
    requirements.write_text(requirements.read_text().rstrip("\n") + f"\n{constraint}\n")
    (copy / ".python-version").write_text(f"{python}\n")
    return copy


def assert_no_secret_leaked(result: BuildResult, config_vars: Mapping[str, str | bytes]) -> None:
    """Every build of the suite, passing or failing, is checked: no secret config var value is
    in its output, in any file of the slug (heroku/python's own Python aside) or in the cache."""
    secrets = [
        value.encode() if isinstance(value, str) else value
        for name, value in config_vars.items()
        if any(word in name for word in ("SECRET", "PASSWORD", "TOKEN")) and len(value) >= 8
    ]
    if not secrets:
        return
    output = result.output.encode(errors="surrogateescape")
    files = [
        path for root in (result.build_dir, result.cache_dir) for path in _files_but_python(root)
    ]
    for secret in secrets:
        assert secret not in output, "a secret config var value is in the build output"
        for path in files:
            assert secret not in path.read_bytes(), f"a secret config var value is in {path}"


def _files_but_python(root: Path) -> Iterator[Path]:
    """The files under ``root``, links aside, less every .heroku folder (heroku/python's Python
    and packages: thousands of files, not walked at all)."""
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if name != ".heroku"]
        for name in names:
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink():
                yield path


def _readme_block(heading: str, language: str = "sh") -> list[str]:
    section = (REPO / "README.md").read_text().split(f"\n## {heading}\n", 1)[1]
    block = section.split("\n## ", 1)[0].split(f"```{language}\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


@pytest.fixture(scope="session")
def readme_block() -> Callable[..., list[str]]:
    """readme_block(heading, language="sh"): the lines of the first ``language`` block in the
    README's ## section ``heading``. The tests run what the README shows."""
    return _readme_block


def _run_in(folder: Path, command: str) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(folder.parent), **GIT_IDENTITY}
    subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=folder, env=env, check=True)


@pytest.fixture(scope="session")
def run_in() -> Callable[[Path, str], None]:
    """run_in(folder, command): a shell command as a developer types it, in ``folder``, with
    an identity for git."""
    return _run_in


@pytest.fixture
def startproject_app(tmp_path: Path) -> Path:
    """A fresh `django-admin startproject mysite` app under git, with what the README asks of
    it before the quickstart (a requirements.txt that lists Django), committed."""
    app = tmp_path / "mysite"
    app.mkdir()
    subprocess.run([sys.executable, "-m", "django", "startproject", "mysite", str(app)], check=True)
    _run_in(
        app, "git init -q && echo Django > requirements.txt && git add -A && git commit -qm new"
    )
    return app


def a_system_font() -> Path:
    fonts = sorted(Path("/usr/share/fonts").rglob("*.ttf"))
    assert fonts, "no TrueType font under /usr/share/fonts: install Debian's chromium"
    return fonts[0]


@pytest.fixture
def font_app(tmp_path: Path) -> Path:
    """The compressor app with a web font in its stylesheet, and a page that says in its title
    whether the font loaded (FONT_PROBE), or which asset failed (ASSET_PROBE)."""
    app = tmp_path / "font-app"
    shutil.copytree(FIXTURES / "compressor", app, ignore=not_pushed)
    static = app / "shop_site" / "static" / "shop"
    (static / "fonts").mkdir()
    shutil.copy(a_system_font(), static / "fonts" / "probe.ttf")
    css = static / "base.css"
    css.write_text(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("fonts/probe.ttf"); }}\n'
        + css.read_text()
        + f'\nh1 {{ font-family: "{FONT_FAMILY}", serif; }}\n'
    )
    template = app / "templates" / "index.html"
    page = template.read_text().replace("<head>", ASSET_PROBE, 1)
    template.write_text(page.replace("</body>", FONT_PROBE))
    return app
