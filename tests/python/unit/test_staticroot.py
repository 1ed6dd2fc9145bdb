"""Which files in STATIC_ROOT the build may clear: those collectstatic and its companions make
from the current sources, and nothing else. The e2e tests in e2e/test_static_root.py build apps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from herokuify_buildpack.assets import staticroot
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


@pytest.mark.parametrize(
    ("name", "made"),
    [
        ("manifest.json", True),
        ("css/0123456789ab.css", True),
        ("js/output.0123456789ab.js", True),
        ("css/output.0123456789ab.css.br", True),
        ("0123456789ab.css", False),  # bundles still lie in a folder of their kind
        ("other/0123456789ab.css", False),  # an app's own hex-named file, in any other folder
        ("vendor/js/0123456789ab.js", False),
        ("css/old/0123456789ab.css", False),
    ],
)
def test_compressor_output_in_static_root_itself_is_only_css_and_js(name, made):
    """COMPRESS_OUTPUT_DIR = "": compressor writes css/<hash>.css and js/<hash>.js right in
    STATIC_ROOT, so no other folder's hex-named files are taken for bundles."""
    assert CollectedNames(SOURCES, CompressorOutput("", "manifest.json")).made(name) is made


def manifest_text(**fields: object) -> str:
    """As ManifestFilesMixin.save_manifest writes it (Django 4.2 on adds "hash")."""
    paths = {"admin/css/base.css": "admin/css/base.0123456789ab.css"}
    return json.dumps({"paths": paths, "version": "1.1", "hash": "0123456789ab", **fields})


@pytest.mark.parametrize("name", ["assets-manifest.json", "manifests/site.json"])
def test_a_manifest_of_another_name_is_cleared(tmp_path: Path, name: str):
    """An app's storage may set manifest_name; heroku/python's collectstatic writes it first."""
    static_root = tmp_path / "staticfiles"
    (static_root / "admin" / "css").mkdir(parents=True)
    (static_root / "admin" / "css" / "base.0123456789ab.css").write_text("body {}")
    (static_root / name).parent.mkdir(parents=True, exist_ok=True)
    (static_root / name).write_text(manifest_text())
    clear(static_root, CollectedNames(SOURCES))
    assert list(static_root.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("package.json", '{"name": "shop", "version": "1.0.0"}'),
        ("data.json", manifest_text(paths=["admin/css/base.css"])),  # "paths" is no object
        ("data.json", manifest_text(version=1)),  # Django writes the version as a string
        ("data.json", "[1, 2]"),
        ("data.json", '{"paths": {'),
        ("data.json", "\udcff not utf-8"),
        ("data.json", "[" * 100_000),  # too deep for the parser
        ("assets-manifest.txt", manifest_text()),  # only a .json name is read
    ],
)
def test_other_json_files_are_refused(tmp_path: Path, name: str, content: str):
    static_root = tmp_path / "staticfiles"
    static_root.mkdir()
    (static_root / name).write_text(content, errors="surrogateescape")
    with pytest.raises(HerokuifyError, match=f"holds {re.escape(name)},"):
        clear(static_root, CollectedNames(SOURCES))
    assert (static_root / name).read_text(errors="surrogateescape") == content


def test_a_manifest_too_big_or_behind_a_link_is_not_read(tmp_path: Path, monkeypatch):
    static_root = tmp_path / "staticfiles"
    static_root.mkdir()
    big = static_root / "assets-manifest.json"
    big.write_text(manifest_text())
    monkeypatch.setattr(staticroot, "_MANIFEST_MAX_BYTES", big.stat().st_size - 1)
    with pytest.raises(HerokuifyError, match=r"holds assets-manifest\.json,"):
        clear(static_root, CollectedNames(SOURCES))
    monkeypatch.undo()

    big.rename(tmp_path / "elsewhere.json")
    (static_root / "linked.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(HerokuifyError, match=r"holds linked\.json,"):
        clear(static_root, CollectedNames(SOURCES))


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
