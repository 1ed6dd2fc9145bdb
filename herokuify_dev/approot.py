"""A private /app for each build and each dyno, as every Heroku build and dyno has its own.

heroku/python's Python is not portable: it is found through /app/.heroku/python, a link the
build makes to BUILD_DIR/.heroku/python (and .profile.d/python.sh re-makes on a dyno), and
installed scripts name /app/.heroku/python/bin/python. Two builds on one machine would fight
over that one link, so each command runs in a mount namespace of its own, with a folder of the
caller's bound onto /app (util-linux's unshare, then mount). Dokku's fixed paths under /tmp are
given the same way (``in_mounts``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

APP = Path("/app")
# Runs in the new namespace: pairs of SOURCE TARGET up to "--", each bound in order (with what
# is mounted under it), then the working directory, then the command.
_MOUNT_THEN_EXEC = (
    'while [ "$1" != -- ]; do mount --rbind "$1" "$2" || exit 1; shift 2; done; '
    'shift; cd "$1" && shift && exec "$@"'
)


class NoPrivateApp(RuntimeError):
    """This machine cannot give a process a private /app."""


def ensure_mount_point() -> None:
    """/app must exist to be bound over; only root can make it."""
    if APP.is_dir():
        return
    if os.geteuid() != 0:
        raise NoPrivateApp(f"{APP} does not exist, and only root can make it: sudo mkdir {APP}")
    APP.mkdir(exist_ok=True)


def in_app_root(
    root: Path, command: Sequence[str | os.PathLike[str]], cwd: str | os.PathLike[str] = "/"
) -> list[str]:
    """``command`` run with ``root`` as its /app, in ``cwd`` (a path as seen inside)."""
    ensure_mount_point()
    return in_mounts([(root, APP)], command, cwd)


def in_mounts(
    mounts: Sequence[tuple[Path, Path]],
    command: Sequence[str | os.PathLike[str]],
    cwd: str | os.PathLike[str] = "/",
) -> list[str]:
    """``command`` run with each (source, target) folder bound, in order, in a mount namespace
    of its own. unshare execs the command in place, so the process tree stays the caller's."""
    unshare = shutil.which("unshare") or "unshare"
    as_root = [] if os.geteuid() == 0 else ["--map-root-user"]
    pairs = [os.fspath(path) for mount in mounts for path in mount]
    return [
        unshare, *as_root, "--mount", "--propagation", "private", "--",
        "/bin/sh", "-c", _MOUNT_THEN_EXEC, "sh", *pairs, "--", os.fspath(cwd),
        *map(os.fspath, command),
    ]  # fmt: skip
