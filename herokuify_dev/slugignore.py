"""What Heroku does with an app's `.slugignore` before the buildpacks run.

Heroku's "Slug Compiler" article (devcenter.heroku.com/articles/slug-compiler): the slug compiler
makes a fresh checkout of HEAD, then removes anything a top-level `.slugignore` names, then runs
the buildpacks. Its format is that of `.gitignore`, except that negated `!` patterns are not
supported. As `.gitignore` reads a pattern (git's gitignore documentation, "PATTERN FORMAT"):

- blank lines and lines starting with `#` are no pattern; trailing spaces are dropped;
- a pattern with a slash at its start or in its middle is relative to the app's root, and one
  without matches at any depth;
- a trailing slash matches directories only;
- `*`, `?` and `[...]` match within one path component, and `**` as a whole component matches
  any number of them.

A matched file or directory is removed whole. Heroku's open-sourced slug compiler
(github.com/heroku/slug-compiler, lib/slug_compiler.rb, prune_slugignore) does the same and prints
"Deleting N files matching .slugignore patterns.", N counting the paths it removed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

NAME = ".slugignore"


@dataclass(frozen=True)
class Pattern:
    parts: tuple[str, ...]  # path components, "**" for any number of them
    directories_only: bool

    @classmethod
    def parse(cls, line: str) -> Pattern | None:
        """The pattern of one line; None for a blank line or a comment."""
        line = line.rstrip()
        if not line or line.startswith("#"):
            return None
        body = line.rstrip("/")
        parts = tuple(part for part in body.split("/") if part)
        if not parts:
            return None
        anchored = "/" in body
        return cls(parts if anchored else ("**", *parts), line.endswith("/"))

    def matches(self, path: tuple[str, ...], is_dir: bool) -> bool:
        return (is_dir or not self.directories_only) and _match(path, self.parts)


def _match(path: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not parts:
        return not path
    head, rest = parts[0], parts[1:]
    if head == "**":
        return any(_match(path[skip:], rest) for skip in range(len(path) + 1))
    return bool(path) and fnmatchcase(path[0], head) and _match(path[1:], rest)


@dataclass(frozen=True)
class Pruned:
    removed: list[str]  # each path removed, relative to the build's root
    negations: list[str]  # the `!` lines, which Heroku does not support


def prune(build_dir: Path) -> Pruned | None:
    """Removes from ``build_dir`` what its .slugignore names; None when it has none."""
    ignore_file = build_dir / NAME
    if not ignore_file.is_file():
        return None
    lines = ignore_file.read_text(errors="replace").splitlines()
    negations = [line.strip() for line in lines if line.strip().startswith("!")]
    patterns = [
        pattern
        for line in lines
        if not line.strip().startswith("!") and (pattern := Pattern.parse(line)) is not None
    ]
    removed = []
    for folder, dirs, files in os.walk(build_dir):
        here = Path(folder).relative_to(build_dir).parts
        for name in [*dirs, *files]:
            path = Path(folder, name)
            is_dir = path.is_dir() and not path.is_symlink()
            if not any(pattern.matches((*here, name), is_dir) for pattern in patterns):
                continue
            if is_dir:
                shutil.rmtree(path)
                dirs.remove(name)
            else:
                path.unlink()
            removed.append("/".join((*here, name)))
    return Pruned(removed, negations)
