"""The links collectstatic makes in STATIC_ROOT: relative, all there after wait(), or one clear
failure."""

import os
import shutil

import pytest

from herokuify_buildpack.assets.links import BackgroundLinks, RelativeLinker
from herokuify_buildpack.errors import HerokuifyError


def _app_with_sources(build):
    sources = build / "app-static"
    (sources / "css").mkdir(parents=True)
    (sources / "css" / "site.css").write_text("body {}")
    (sources / "logo.png").write_bytes(b"png")
    return sources


def test_links_exist_once_waited_for_and_resolve_after_the_build_moves(tmp_path):
    build = tmp_path / "build"
    sources = _app_with_sources(build)
    root = build / "staticfiles"
    links = BackgroundLinks()
    for name in ("css/site.css", "logo.png"):
        links.add(name, str(sources / name), str(root / name))
    links.wait()
    links.wait()  # a second wait returns at once
    assert os.readlink(root / "css" / "site.css") == "../../app-static/css/site.css"
    assert links.sources == {
        "css/site.css": str(sources / "css" / "site.css"),
        "logo.png": str(sources / "logo.png"),
    }
    # The slug is unpacked elsewhere: the links still reach their sources.
    moved = shutil.move(build, tmp_path / "app")
    assert (moved / "staticfiles" / "css" / "site.css").read_text() == "body {}"
    assert (moved / "staticfiles" / "logo.png").read_bytes() == b"png"


def test_a_link_made_now_exists_before_add_returns(tmp_path):
    sources = _app_with_sources(tmp_path)
    links = BackgroundLinks()
    link = tmp_path / "staticfiles" / "logo.png"
    links.add("logo.png", str(sources / "logo.png"), str(link), now=True)
    assert link.read_bytes() == b"png"
    links.wait()


@pytest.mark.parametrize("now", [False, True], ids=["queued-fails-at-wait", "now-fails-at-once"])
def test_a_link_that_cannot_be_made_fails_the_build(tmp_path, now):
    root = tmp_path / "staticfiles"
    root.mkdir()
    (root / "css").write_text("a file where a folder should be")
    links = BackgroundLinks()
    link = str(root / "css" / "site.css")
    with pytest.raises(HerokuifyError, match=r"collectstatic could not link .*/css/site.css: "):
        links.add("css/site.css", str(tmp_path / "site.css"), link, now=now)
        links.wait()
    if now:
        links.wait()  # the thread had nothing queued, and ends


def test_targets_are_relative_to_the_resolved_folders(tmp_path):
    """A STATIC_ROOT reached through a symlink: ".." climbs from where the link really is."""
    real_root = tmp_path / "build" / "deep" / "staticfiles"
    real_root.mkdir(parents=True)
    (tmp_path / "build" / "static-alias").symlink_to(real_root)
    source = tmp_path / "build" / "app" / "site.css"
    source.parent.mkdir()
    source.write_text("body {}")
    link = tmp_path / "build" / "static-alias" / "site.css"
    RelativeLinker().link(str(source), str(link))
    assert os.readlink(link) == "../../app/site.css"
    assert link.read_text() == "body {}"
