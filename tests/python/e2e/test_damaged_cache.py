"""Whatever CACHE_DIR holds, a build neither fails nor hangs: a cache that cannot be read is
ignored with one line, and one that cannot be written costs only the next build's speed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from herokuify_buildpack.cachedir import cache_file

IGNORED = "Ignoring the build cache in CACHE_DIR"
UNWRITTEN = "Could not write the build cache in CACHE_DIR"


def cache_key(config_vars: dict[str, str]) -> str:
    return f"{config_vars['AWS_S3_ENDPOINT_URL']}/{config_vars['AWS_STORAGE_BUCKET_NAME']}/static"


def text(content: str) -> Callable[[Path, str], None]:
    """Writes ``content``, with {key} standing for the cache key."""
    return lambda path, key: path.write_text(content.replace("{key}", key))


def a_folder(path: Path, key: str) -> None:
    path.mkdir()


def a_pipe(path: Path, key: str) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize(
    ("which", "damage"),
    [
        ("uploads", text("[]")),
        ("uploads", text('{"format": 2, "location": "{key}", "entries": []}')),
        ("uploads", text('{"entries": []}')),
        ("uploads", a_folder),
        ("uploads", a_pipe),
        ("listing-cuts", text("[]")),
        ("listing-cuts", a_pipe),
    ],
    ids=["list", "entries-a-list", "no-format", "folder", "uploads-pipe", "cuts-list", "cuts-pipe"],
)
def test_an_unreadable_cache_file_is_ignored_with_one_line(
    build, tmp_path, config_vars, which, damage
):
    cache_dir = tmp_path / "cache"
    path = cache_file(cache_dir, which, cache_key(config_vars))
    path.parent.mkdir(parents=True)
    damage(path, cache_key(config_vars))

    result = build("minimal", config_vars, cache_dir=cache_dir)
    assert result.ok, result.output
    assert result.output.count(IGNORED) == 1, result.output
    assert "Done: 131 files uploaded" in result.output


def test_a_cache_folder_that_is_a_file_costs_only_speed(build, tmp_path, config_vars):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "herokuify").write_text("not a folder")

    result = build("minimal", config_vars, cache_dir=cache_dir)
    assert result.ok, result.output
    assert result.output.count(UNWRITTEN) == 1, result.output


def test_a_cache_dir_that_cannot_be_written_costs_only_speed(build, tmp_path, config_vars):
    """An immutable folder refuses even root, as a read-only CACHE_DIR refuses the build."""
    cache_dir = tmp_path / "cache"
    (cache_dir / "herokuify").mkdir(parents=True)
    subprocess.run(["chattr", "+i", cache_dir / "herokuify"], check=True)
    try:
        result = build("minimal", config_vars, cache_dir=cache_dir)
    finally:
        subprocess.run(["chattr", "-i", cache_dir / "herokuify"], check=True)
    assert result.ok, result.output
    assert result.output.count(UNWRITTEN) == 1, result.output
    assert not list((cache_dir / "herokuify").iterdir())  # no temporary file left behind
