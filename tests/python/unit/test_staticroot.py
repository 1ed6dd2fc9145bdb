"""Which files in STATIC_ROOT the build may clear: those collectstatic and its companions make
from the current sources, and nothing else. The e2e tests in e2e/test_static_root.py build apps."""

from __future__ import annotations

from pathlib import Path

import pytest

from herokuify_buildpack.assets.staticroot import CollectedNames, CompressorOutput, clear
from herokuify_buildpack.errors import HerokuifyError

SOURCES = frozenset({"admin/css/base.css", "app/site.js", "robots.txt", "fonts/font.tar.gz"})
COMPRESSOR = CompressorOutput("CACHE", "manifest.json")


@pytest.mark.parametrize(
    "name",
    [
        "admin/css/base.css",
        "robots.txt",
        "staticfiles.json",
        "admin/css/base.0123456789ab.css",  # Django's hashed name
        "robots.0123456789ab.txt",
        "fonts/font.tar.0123456789ab.gz",  # the hash goes before the last suffix only
        "app/site.js.gz",  # WhiteNoise's compressed siblings
        "app/site.0123456789ab.js.br",
        "CACHE/manifest.json",  # django-compressor's offline output
        "CACHE/css/output.0123456789ab.css",
        "CACHE/js/0123456789ab.js",
        "CACHE/css/output.0123456789ab.css.gz",
    ],
)
def test_names_collectstatic_makes_are_recognised(name):
    assert CollectedNames(SOURCES, COMPRESSOR).made(name)


@pytest.mark.parametrize(
    "name",
    [
        "__init__.py",
        "models.py",
        "app/site.css",  # no such source
        "index.html",
        ".gitkeep",
        "admin/css/base.0123456789.css",  # 10 digits, not 12
        "admin/css/base.0123456789AB.css",  # Django's digits are lowercase
        "app/site.js.zip",
        "CACHE/css/notes.txt",
        "CACHE/0123456789ab.css",  # bundles lie in a folder of their kind
        "other/css/output.0123456789ab.css",
        "staticfiles.json.bak",
    ],
)
def test_other_names_are_not(name):
    assert not CollectedNames(SOURCES, COMPRESSOR).made(name)


def test_compressor_output_is_only_recognised_with_compressor():
    assert not CollectedNames(SOURCES).made("CACHE/css/output.0123456789ab.css")


def test_clear_deletes_nothing_when_one_file_is_not_collected(tmp_path: Path):
    static_root = tmp_path / "shop"
    (static_root / "admin" / "css").mkdir(parents=True)
    (static_root / "admin" / "css" / "base.css").write_text("body {}")
    (static_root / "models.py").write_text("")

    with pytest.raises(HerokuifyError) as raised:
        clear(static_root, CollectedNames(SOURCES))
    assert f"STATIC_ROOT ({static_root}) holds models.py" in str(raised.value)
    assert (static_root / "admin" / "css" / "base.css").is_file()
    assert (static_root / "models.py").is_file()


def test_clear_removes_links_not_what_they_point_to(tmp_path: Path):
    """A link is judged by its own name and removed as a link: its target stays."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("the app's")
    static_root = tmp_path / "staticfiles"
    (static_root / "app").mkdir(parents=True)
    (static_root / "app" / "site.js").symlink_to(target / "keep.txt")
    (static_root / "robots.txt").write_text("")
    (static_root / "empty").mkdir()

    clear(static_root, CollectedNames(SOURCES))
    assert list(static_root.iterdir()) == []
    assert (target / "keep.txt").read_text() == "the app's"


def test_a_linked_folder_is_judged_by_its_name(tmp_path: Path):
    """A link to a folder is not followed: collectstatic never makes one, so it is refused."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "site.js").write_text("")
    static_root = tmp_path / "staticfiles"
    static_root.mkdir()
    (static_root / "app").symlink_to(tmp_path / "app")

    with pytest.raises(HerokuifyError, match="holds app,"):
        clear(static_root, CollectedNames(SOURCES))
    assert (static_root / "app" / "site.js").exists()


def test_an_empty_placeholder_is_cleared_but_one_with_content_is_refused(tmp_path: Path):
    """Apps commit an empty .gitkeep to make STATIC_ROOT exist; one with content is the app's."""
    static_root = tmp_path / "staticfiles"
    (static_root / "admin" / "css").mkdir(parents=True)
    (static_root / "admin" / "css" / "base.css").write_text("body {}")
    (static_root / ".gitkeep").write_text("")
    (static_root / "admin" / ".keep").write_text("")
    clear(static_root, CollectedNames(SOURCES))
    assert list(static_root.iterdir()) == []

    (static_root / ".gitkeep").write_text("notes")
    with pytest.raises(HerokuifyError, match=r"holds \.gitkeep"):
        clear(static_root, CollectedNames(SOURCES))
    assert (static_root / ".gitkeep").read_text() == "notes"
