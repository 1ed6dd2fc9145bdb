"""Copies made of hard links, for the trees that every test build gets a copy of (a Python with
its packages, heroku/python's kept result): nearly free. Whoever writes into such a copy (pip,
heroku/python, the compile of bytecode) replaces files rather than edit them in place, so the
original stays intact."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def linked_copy(source: Path, target: Path) -> None:
    """``source``, a file or a folder, at ``target``: hard links where the file system allows
    them, plain copies where it does not (another device)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not source.is_dir():
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
        return
    # cp rather than shutil.copytree, which spends seconds of Python on a runtime's thousands of
    # files. -T: ``target`` is the copy itself, never a folder to copy ``source`` into.
    existed = target.exists()
    linked = subprocess.run(
        ["cp", "-a", "--link", "-T", "--", source, target], capture_output=True, text=True
    )
    if linked.returncode != 0:
        if not existed:
            shutil.rmtree(target, ignore_errors=True)
        subprocess.run(["cp", "-a", "-T", "--", source, target], check=True)
