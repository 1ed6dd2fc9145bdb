"""One version: herokuify_buildpack.__version__ sets it, and what repeats it agrees: the static
files that tools read without Python, and the build's first line, which the shell writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import tomllib

from herokuify_buildpack import __version__

REPO = Path(__file__).resolve().parents[3]


def test_the_version_is_a_release_number():
    numbers = __version__.split(".")
    assert len(numbers) == 3 and all(number.isdigit() for number in numbers), __version__


def test_buildpack_toml_names_the_package_version():
    descriptor = tomllib.loads((REPO / "buildpack.toml").read_text())
    assert descriptor["buildpack"]["version"] == __version__
    assert descriptor["api"] == "0.10"
    assert descriptor["buildpack"]["licenses"] == [{"type": "MIT"}]
    assert (REPO / "LICENSE").read_text().startswith("MIT License\n")


def test_the_prepare_buildpacks_toml_names_the_package_version():
    descriptor = tomllib.loads((REPO / "cnb-prepare" / "buildpack.toml").read_text())
    assert descriptor["buildpack"]["version"] == __version__
    assert descriptor["api"] == "0.10"
    assert descriptor["buildpack"]["licenses"] == [{"type": "MIT"}]


def test_pyproject_names_the_package_version():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__


def test_the_shells_first_line_names_the_package_version():
    script = 'source lib/output.sh && source lib/helper.sh && helper::header "what it does"'
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "BUILDPACK_DIR": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == f"-----> herokuify-buildpack {__version__}: what it does\n"
