"""What a push of an app sends to the platform, written out for a local build to build.

- In a git repository: the tree of HEAD, as `git push` sends it and as Heroku's slug compiler
  checks it out ("a fresh checkout of HEAD", devcenter.heroku.com/articles/slug-compiler). An
  app in a subfolder of its repository is that folder of HEAD, as `git subtree push --prefix`
  sends it.
- With ``worktree``: the working tree as `git add -A && git commit` would commit it, uncommitted
  changes included and the files .gitignore names left out.
- Outside git: the folder, less what a local run leaves in it (IGNORED).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

# What a local run of an app leaves in its folder, and no push would send.
IGNORED = (".git", "__pycache__", "staticfiles", "*.sqlite3", ".venv")


class NothingToPush(RuntimeError):
    """The app is in a git repository whose HEAD does not hold it."""


def not_pushed(folder: str, names: list[str]) -> set[str]:
    """What a local copy of an app leaves out: files of a local run that a push would not
    send (IGNORED), and a Python left in .heroku by one; a committed .heroku/ marker stays."""
    left_out = set(shutil.ignore_patterns(*IGNORED)(folder, names))
    if Path(folder).name == ".heroku":
        left_out |= {"python"} & set(names)
    return left_out


def write_pushed(app_dir: Path, target: Path, worktree: bool = False) -> str:
    """Writes into ``target`` (which must not exist) what a push of ``app_dir`` sends; returns
    one line that says which of the three it is."""
    top = _git(app_dir, "rev-parse", "--show-toplevel") if shutil.which("git") else None
    if top is None:
        shutil.copytree(app_dir, target, symlinks=True, ignore=not_pushed)
        why = "Not in a git repository" if shutil.which("git") else "git is not installed"
        return f"-----> {why}: building the folder as it is, less {', '.join(IGNORED)}"
    prefix = os.path.relpath(app_dir.resolve(), Path(top).resolve())
    folder = "" if prefix == "." else f"{prefix}/ of "
    if worktree:
        _copy_worktree(app_dir, target)
        return (
            f"-----> Building {folder}the working tree, uncommitted changes included "
            "(--worktree), less what .gitignore names"
        )
    tree = "HEAD:" if prefix == "." else f"HEAD:{prefix}"
    commit = _git(app_dir, "rev-parse", "--short", "--verify", "--quiet", "HEAD")
    if commit is None or _git(app_dir, "rev-parse", "--verify", "--quiet", tree) is None:
        held = "has no commit yet" if commit is None else f"does not hold {prefix} at HEAD"
        raise NothingToPush(
            f"The git repository {top} {held}: commit the app (a push sends HEAD), or pass "
            "--worktree to build the files as they are"
        )
    _check_out(Path(top), tree, target)
    sent = "git push sends it" if prefix == "." else f"git subtree push --prefix {prefix} sends it"
    return (
        f"-----> Building {folder}HEAD ({commit}), as {sent}: uncommitted changes are left "
        "out (--worktree builds them)"
    )


def _check_out(top: Path, tree: str, target: Path) -> None:
    """``tree`` checked out into ``target`` through an index of its own, so that the
    repository's own index and working tree stay as they are. Not `git archive`, which would
    leave out what .gitattributes marks export-ignore, as no push does."""
    with tempfile.TemporaryDirectory(prefix="herokuify-index-") as scratch:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        for args in (["read-tree", tree], ["checkout-index", "--all", f"--prefix={target}/"]):
            subprocess.run(["git", *args], cwd=top, env=env, check=True, capture_output=True)


def _copy_worktree(app_dir: Path, target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=app_dir,
        check=True,
        capture_output=True,
    ).stdout
    target.mkdir(parents=True)
    for name in filter(None, os.fsdecode(listed).split("\0")):
        source, copy = app_dir / name, target / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted, not committed yet
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir() and not source.is_symlink():  # a submodule's checkout
            shutil.copytree(source, copy, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(source, copy, follow_symlinks=False)


def _git(app_dir: Path, *args: str) -> str | None:
    """git's answer in ``app_dir``, stripped; None where it fails (not a repository)."""
    done = subprocess.run(["git", *args], cwd=app_dir, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None
