"""The links collectstatic queues for a thread: all there after wait(), or one clear failure."""

import pytest

from herokuify_buildpack.build.collectstatic import BackgroundLinks
from herokuify_buildpack.errors import BuildError


def test_links_exist_once_waited_for(tmp_path):
    sources = tmp_path / "app-static"
    (sources / "css").mkdir(parents=True)
    (sources / "css" / "site.css").write_text("body {}")
    (sources / "logo.png").write_bytes(b"png")
    root = tmp_path / "staticfiles"
    links = BackgroundLinks()
    for name in ("css/site.css", "logo.png"):
        links.add(name, str(sources / name), str(root / name))
    links.wait()
    links.wait()  # a second wait returns at once
    assert (root / "css" / "site.css").readlink() == sources / "css" / "site.css"
    assert (root / "logo.png").read_bytes() == b"png"
    assert links.sources == {
        "css/site.css": str(sources / "css" / "site.css"),
        "logo.png": str(sources / "logo.png"),
    }


def test_a_link_that_cannot_be_made_fails_the_build_when_waited_for(tmp_path):
    root = tmp_path / "staticfiles"
    root.mkdir()
    (root / "css").write_text("a file where a folder should be")
    links = BackgroundLinks()
    links.add("css/site.css", str(tmp_path / "site.css"), str(root / "css" / "site.css"))
    with pytest.raises(BuildError, match=r"collectstatic could not link .*/css/site.css: "):
        links.wait()
