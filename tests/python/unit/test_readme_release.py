"""The README and docs/ install this release: every line that adds the buildpack from GitHub
pins the tag that script/package and the build's first line name, under one owner placeholder,
and the CNB images they name (this buildpack's and its prepare buildpack's) carry the same
version."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from herokuify_buildpack import __version__

REPO = Path(__file__).resolve().parents[3]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# heroku buildpacks:add (…#tag), and Dokku's buildpacks:add or .buildpacks (….git#tag), which
# heroku-buildpack-multi clones and checks out at the tag. Not a link to a page of the repo.
INSTALL_URL = re.compile(
    r"https://github\.com/(?P<owner>[^/\s]+)/herokuify-buildpack(\.git)?(?![\w/.-])(?P<ref>#\S*)?"
)
CNB_IMAGE = re.compile(r"herokuify-django-s3(?:-prepare)?:(?P<tag>[^\s`\"]+)")
OWNER = "OWNER"


def found(pattern: re.Pattern[str], page: Path) -> list[re.Match[str]]:
    return list(pattern.finditer(page.read_text()))


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_install_line_pins_this_releases_tag_under_the_owner_placeholder(page: Path):
    for url in found(INSTALL_URL, page):
        assert url.group("ref") == f"#v{__version__}", f"{page.name}: {url.group(0)}"
        assert url.group("owner") == OWNER, f"{page.name}: {url.group(0)}"


def test_the_readme_installs_on_heroku_and_dokku():
    commands = {
        line.split()[0]
        for line in (REPO / "README.md").read_text().splitlines()
        if INSTALL_URL.search(line) and " buildpacks:add " in line
    }
    assert commands == {"heroku", "dokku"}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_the_cnb_image_carries_this_version(page: Path):
    for image in found(CNB_IMAGE, page):
        assert image.group("tag") == __version__, f"{page.name}: {image.group(0)}"
