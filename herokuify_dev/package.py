"""The buildpack as a platform takes it: this repo's folder without what .packignore lists.

    python -m herokuify_dev.package DEST

`pack build --buildpack DEST` takes the folder as it is, and `pack buildpack package` makes an
image of it. Both API's entry points (bin/detect, bin/compile, bin/release, bin/build) are in it.
"""

from __future__ import annotations

import argparse
import fnmatch
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def ignored_patterns(repo: Path = REPO_ROOT) -> list[str]:
    lines = (repo / ".packignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_ignored(relative: Path, patterns: list[str]) -> bool:
    candidates = [relative.as_posix(), *(part for part in relative.parts)]
    return any(fnmatch.fnmatch(name, pattern) for name in candidates for pattern in patterns)


def package(dest: Path, repo: Path = REPO_ROOT) -> Path:
    """Copies the buildpack into ``dest``, which must not exist yet, and returns it."""
    patterns = ignored_patterns(repo)

    def leave_out(folder: str, names: list[str]) -> set[str]:
        here = Path(folder).relative_to(repo)
        return {name for name in names if is_ignored(here / name, patterns)}

    shutil.copytree(repo, dest, symlinks=True, ignore=leave_out)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m herokuify_dev.package", description=__doc__)
    parser.add_argument("dest", type=Path, help="a folder that does not exist yet")
    args = parser.parse_args(argv)
    if args.dest.exists():
        parser.error(f"{args.dest} exists already")
    print(f"-----> Packaged the buildpack into {package(args.dest)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
