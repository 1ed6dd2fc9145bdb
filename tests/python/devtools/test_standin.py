"""The stand-in for heroku/python leaves what Heroku's own leaves, on every point a buildpack
after it can see, so that no test passes on the stand-in where the real one would fail.

The same app is built after each, followed by a probe buildpack whose compile reports what it
finds: its environment, its Python and how that Python starts, the scripts' shebangs, the /app
link and .profile.d. Then how each runs collectstatic: when it skips it, and how it fails.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest

from herokuify_dev.localbuild import build_app
from herokuify_dev.standin import StandIn
from herokuify_dev.transcript import Transcript

FIXTURES = Path(__file__).resolve().parents[3] / "test-fixtures"
# A buildpack after heroku/python: what its compile sees, as one JSON line.
PROBE_COMPILE = r"""#!/usr/bin/env bash
set -euo pipefail
BUILD_DIR="$1"
if env -u LD_LIBRARY_PATH python -c 1 2>/dev/null; then starts_alone=yes; else starts_alone=no; fi
python - "$BUILD_DIR" "$starts_alone" <<'EOF'
import json, os, sys
build_dir, starts_alone = sys.argv[1], sys.argv[2]
profile = sorted(os.listdir(os.path.join(build_dir, ".profile.d")))
with open(os.path.join(build_dir, ".heroku/python/bin/django-admin"), "rb") as script:
    shebang = script.readline().decode().strip()
env = {k: v.replace(build_dir, "BUILD_DIR") for k, v in os.environ.items()
       if k not in ("PWD", "SHLVL", "_", "OLDPWD")}
print("PROBE " + json.dumps({
    "env": env,
    "python": os.path.realpath(sys.executable).replace(build_dir, "BUILD_DIR"),
    "prefix": sys.prefix,
    "app_link": os.path.realpath("/app/.heroku/python").replace(build_dir, "BUILD_DIR"),
    "starts_without_LD_LIBRARY_PATH": starts_alone,
    "shebang": shebang,
    "profile.d": profile,
    "pip": os.path.isfile("/app/.heroku/python/bin/pip"),
}))
EOF
"""
PROBE_SCRIPTS = {
    "detect": "#!/bin/sh\necho Probe\n",
    "compile": PROBE_COMPILE,
    "release": "#!/bin/sh\necho '--- {}'\n",
}
# The version of a Python, which the two may name differently (Heroku's newest patch release,
# this machine's): the rest of the probe must be the same.
PATCH = re.compile(r"\b3\.1\d\.\d+\b")


@pytest.fixture(scope="module")
def probe_buildpack(script_buildpack) -> Path:
    return script_buildpack("probe", PROBE_SCRIPTS)


@pytest.fixture
def both(heroku_python, standins, series_app, probe_buildpack, tmp_path):
    """both(app_dir, config_vars) -> {"heroku": BuildResult, "standin": BuildResult}: the app,
    asking for the 6 series (Python 3.12, of which Debian has no libpython of its own that the
    loader could find instead), built after each heroku/python, then the probe."""

    def run(app_dir: Path, config_vars: dict[str, str]) -> dict:
        source = series_app(app_dir, "6", tmp_path / "source")
        python = standins("minimal", "6").python  # 3.12, as the series asks
        pythons = {"heroku": heroku_python, "standin": StandIn(source, python=python)}
        return {
            name: build_app(
                source,
                config_vars,
                python_buildpack,
                workdir=tmp_path / name,
                buildpack_dir=probe_buildpack,
                stream=Transcript(io.StringIO()),
            )
            for name, python_buildpack in pythons.items()
        }

    return run


def probe(result) -> dict:
    [line] = [line for line in result.output.splitlines() if line.startswith("PROBE ")]
    return json.loads(PATCH.sub("3.1x.y", line.removeprefix("PROBE ")))


def test_the_next_buildpack_sees_the_same_python_environment_and_slug(both):
    builds = both(FIXTURES / "minimal", {"DISABLE_COLLECTSTATIC": "1"})
    for result in builds.values():
        assert result.ok, result.output
    real, standin = probe(builds["heroku"]), probe(builds["standin"])
    assert real == standin
    # What the issue names, each seen in Heroku's own as the stand-in must leave it.
    assert real["starts_without_LD_LIBRARY_PATH"] == "no"  # libpython with no RUNPATH
    assert real["python"].startswith("BUILD_DIR/.heroku/python/bin/python3")
    assert real["app_link"] == "BUILD_DIR/.heroku/python"
    assert real["shebang"] == "#!/app/.heroku/python/bin/python"
    assert real["profile.d"] == ["WEB_CONCURRENCY.sh", "python.gunicorn.sh", "python.sh"]
    assert real["env"]["HOME"] == "/app"
    for name in ("PYTHONHOME", "LD_LIBRARY_PATH", "LIBRARY_PATH", "LANG", "PYTHONPATH"):
        assert name in real["env"], name
    exports = {
        name: (result.build_dir.parent / "python-buildpack" / "export").read_text()
        for name, result in builds.items()
    }
    assert exports["standin"] == exports["heroku"]
    assert len(exports["heroku"].splitlines()) == 8


@pytest.mark.parametrize(
    ("case", "config_vars", "marker", "runs"),
    [
        ("unset", {}, False, True),
        ("zero", {"DISABLE_COLLECTSTATIC": "0"}, False, True),
        ("true", {"DISABLE_COLLECTSTATIC": "true"}, False, False),
        ("marker-file", {}, True, False),
    ],
)
def test_collectstatic_runs_skips_and_fails_alike(both, tmp_path, case, config_vars, marker, runs):
    """The broken-settings app: its collectstatic fails where it runs, with heroku/python's own
    line, and the build stops there; where it is turned off, the build goes on."""
    app = FIXTURES / "broken-settings"
    if marker:
        app = tmp_path / "marked" / "broken-settings"
        shutil.copytree(FIXTURES / "broken-settings", app)
        (app / ".heroku").mkdir()
        (app / ".heroku" / "collectstatic_disabled").touch()
    builds = both(app, config_vars)
    for name, result in builds.items():
        if runs:
            assert result.returncodes == {"heroku/python": 1}, (name, result.output)
            assert "$ python manage.py collectstatic --noinput" in result.output
            assert " !     Error: Unable to generate Django static files." in result.output
            assert "ModuleNotFoundError" in result.output
        else:
            assert result.ok, (name, result.output)
            assert "Skipping Django collectstatic since" in result.output
