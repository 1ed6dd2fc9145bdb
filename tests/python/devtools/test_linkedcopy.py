"""linked_copy: the copy every test build makes of a Python and its packages."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from herokuify_dev.linkedcopy import linked_copy


def a_tree(root: Path) -> Path:
    (root / "lib" / "site").mkdir(parents=True)
    (root / "lib" / "site" / "module.py").write_text("x = 1\n")
    (root / "bin").mkdir()
    (root / "bin" / "python3").write_text("#!/bin/sh\n")
    (root / "bin" / "python3").chmod(0o755)
    (root / "bin" / "python").symlink_to("python3")
    return root


def test_a_folder_is_copied_as_hard_links_with_its_links_and_modes(tmp_path):
    source = a_tree(tmp_path / "source")
    linked_copy(source, tmp_path / "deep" / "copy")
    copy = tmp_path / "deep" / "copy"
    assert os.path.samefile(
        copy / "lib" / "site" / "module.py", source / "lib" / "site" / "module.py"
    )
    assert os.readlink(copy / "bin" / "python") == "python3"
    assert os.access(copy / "bin" / "python3", os.X_OK)


def test_a_file_is_linked(tmp_path):
    source = tmp_path / "export"
    source.write_text("export PATH=/app/.heroku/python/bin:$PATH\n")
    linked_copy(source, tmp_path / "copy" / "export")
    assert os.path.samefile(tmp_path / "copy" / "export", source)


def test_across_file_systems_it_copies(tmp_path):
    """/dev/shm is a file system of its own here: no hard link can reach it."""
    with tempfile.TemporaryDirectory(dir="/dev/shm") as other:
        assert os.stat(other).st_dev != os.stat(tmp_path).st_dev
        source = a_tree(Path(other) / "source")
        linked_copy(source, tmp_path / "copy")
        copied = tmp_path / "copy" / "lib" / "site" / "module.py"
        assert copied.read_text() == "x = 1\n"
        assert not os.path.samefile(copied, source / "lib" / "site" / "module.py")
        assert os.readlink(tmp_path / "copy" / "bin" / "python") == "python3"
