"""The README and docs/ link to pages and sections that exist, and so does every error that
names a page: moving a section breaks a test, not a user's next step."""

import re
from pathlib import Path

import pytest

from herokuify_buildpack import errors

REPO = Path(__file__).resolve().parents[3]
PAGES = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lowercase, punctuation dropped, spaces as -."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def assert_target_exists(base: Path, target: str) -> None:
    path, _, anchor = target.partition("#")
    page = (base / path).resolve() if path else base
    assert page.exists(), target
    if anchor:
        assert anchor in anchors(page), f"{target}: no such section in {page.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_local_link_reaches_a_page_and_section(page: Path):
    for target in LINK.findall(page.read_text()):
        if not re.match(r"[a-z]+:", target):
            base = page if target.startswith("#") else page.parent
            assert_target_exists(base, target)


def test_every_error_that_names_a_page_names_one_that_exists():
    entries = [entry for entry in vars(errors).values() if isinstance(entry, errors.Entry)]
    named = [entry.doc for entry in entries if entry.doc]
    assert named
    for doc in named:
        assert_target_exists(REPO / "docs", doc)
