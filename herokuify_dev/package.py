"""The buildpack as a platform takes it: a release tag's files, less what .packignore lists.

    script/package [--ref TAG] [--prepare] DEST

The files come from the tag through `git archive`, so nothing uncommitted ships, and the tag must
be "v" and the version its own files set (herokuify_buildpack/__init__.py's __version__, which
buildpack.toml repeats). Without --ref, the tag is the work tree's version's; --ref packages
another release, such as an older one. `pack build --buildpack DEST` takes the folder as it is,
and `pack buildpack package` makes an image of it. Both APIs' entry points (bin/detect,
bin/compile, bin/release, bin/build) are in it.

With --prepare, DEST is instead the same release's herokuify/django-s3-prepare (cnb-prepare/),
the CNB that goes before heroku/python (docs/platforms.md). Its lib/ and herokuify_buildpack/
are links to the repo's own folders, which it holds as copies: a platform takes each buildpack
as a folder of its own.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import tomllib

REPO_ROOT = Path(__file__).resolve().parents[1]
VERSION_FILE = "herokuify_buildpack/__init__.py"
DESCRIPTOR = "buildpack.toml"
PACKIGNORE = ".packignore"
PREPARE = "cnb-prepare"
PREPARE_DIR = REPO_ROOT / PREPARE


class PackageError(Exception):
    """Why a release cannot be packaged, in one line."""


def parse_patterns(text: str) -> list[str]:
    lines = text.splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_ignored(relative: Path, patterns: list[str]) -> bool:
    candidates = [relative.as_posix(), *(part for part in relative.parts)]
    return any(fnmatch.fnmatch(name, pattern) for name in candidates for pattern in patterns)


def package_version(source: str) -> str:
    """The __version__ that ``source``, an __init__.py, sets, read without running it."""
    for node in ast.parse(source).body:
        match node:
            case ast.Assign(targets=[ast.Name(id="__version__")], value=ast.Constant(str(version))):
                return version
    raise PackageError(f"{VERSION_FILE} sets no __version__")


def release_tag(version: str) -> str:
    return f"v{version}"


def copy_work_tree(dest: Path, repo: Path = REPO_ROOT) -> Path:
    """Copies the work tree as it is, committed or not, less .packignore, into ``dest``, which
    must not exist yet, and returns it: the tests' Dokku host builds the code as it is."""
    patterns = parse_patterns((repo / PACKIGNORE).read_text())

    def leave_out(folder: str, names: list[str]) -> set[str]:
        here = Path(folder).relative_to(repo)
        return {name for name in names if is_ignored(here / name, patterns)}

    shutil.copytree(repo, dest, symlinks=True, ignore=leave_out)
    return dest


def package_release(
    dest: Path, ref: str | None = None, repo: Path = REPO_ROOT, prepare: bool = False
) -> str:
    """Exports the tag ``ref`` (by default "v" and the work tree's version) into ``dest``, which
    must not exist yet, less .packignore, and returns the tag. Nothing is written if the tag is
    missing or its files set another version. With ``prepare``, the prepare buildpack."""
    tag = ref or release_tag(package_version((repo / VERSION_FILE).read_text()))
    with tarfile.open(fileobj=io.BytesIO(_archive(repo, tag, default=ref is None))) as archive:

        def read(name: str) -> str:
            try:
                member = archive.extractfile(name)
            except KeyError:
                member = None
            if member is None:
                raise PackageError(
                    f"tag {tag} has no file {name}: is it a release of this buildpack?"
                )
            return member.read().decode()

        _check_versions(tag, read(VERSION_FILE), read(DESCRIPTOR))
        if prepare:
            descriptor = f"{PREPARE}/{DESCRIPTOR}"
            _check_versions(tag, read(VERSION_FILE), read(descriptor), descriptor)
        patterns = parse_patterns(read(PACKIGNORE))
        members = archive.getmembers()
        if prepare:
            members = _prepare_members(members)
        kept = [item for item in members if not is_ignored(Path(item.name), patterns)]
        archive.extractall(dest, members=kept, filter="data")
    return tag


def _prepare_members(members: list[tarfile.TarInfo]) -> list[tarfile.TarInfo]:
    """cnb-prepare/'s files, at the top, and in place of each of its links to a folder of the
    repo ("../lib"), that folder's files."""
    prefix = f"{PREPARE}/"
    linked = {
        item.name.removeprefix(prefix): item.linkname.removeprefix("../")
        for item in members
        if item.name.startswith(prefix) and item.issym() and item.linkname.startswith("../")
    }
    chosen: list[tarfile.TarInfo] = []
    for item in members:
        if item.name.startswith(prefix) and item.name.removeprefix(prefix) not in linked:
            chosen.append(_renamed(item, item.name.removeprefix(prefix)))
        for name, folder in linked.items():
            if item.name == folder or item.name.startswith(f"{folder}/"):
                chosen.append(_renamed(item, name + item.name.removeprefix(folder)))
    return chosen


def _renamed(item: tarfile.TarInfo, name: str) -> tarfile.TarInfo:
    return item.replace(name=name, deep=False)


def _archive(repo: Path, tag: str, default: bool) -> bytes:
    """The tag's tree as a tar stream; a missing tag, or a folder that is no git repository, is
    a PackageError."""
    ref = f"refs/tags/{tag}"
    try:
        found = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", ref],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        raise PackageError("git is not installed: a release is exported from its git tag") from None
    if found.returncode != 0:
        said = found.stderr.strip().splitlines()
        if said:  # not a repository, or git could not read it
            raise PackageError(f"{repo}: {said[-1]}")
        if default:
            raise PackageError(
                f"no tag {tag} for the work tree's version: tag the release's commit "
                f"(git tag {tag}) or pass --ref TAG"
            )
        raise PackageError(f"no tag {tag} (git tag --list 'v*' lists the releases)")
    done = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", ref], capture_output=True, check=True
    )
    return done.stdout


def _check_versions(
    tag: str, version_source: str, descriptor: str, descriptor_name: str = DESCRIPTOR
) -> None:
    version = package_version(version_source)
    if tag != release_tag(version):
        raise PackageError(
            f"tag {tag} holds version {version} ({VERSION_FILE}): "
            f"a release's tag is {release_tag(version)}"
        )
    described = tomllib.loads(descriptor)["buildpack"]["version"]
    if described != version:
        raise PackageError(
            f"tag {tag}: {descriptor_name} says version {described}, __version__ {version}; "
            "a release sets one in each"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="script/package",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--ref",
        metavar="TAG",
        help="the release tag to package (default: v and the work tree's __version__)",
    )
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="package herokuify/django-s3-prepare, the CNB that goes before heroku/python",
    )
    parser.add_argument("dest", type=Path, help="a folder that does not exist yet")
    args = parser.parse_args(argv)
    if args.dest.exists():
        parser.error(f"{args.dest} exists already")
    try:
        tag = package_release(args.dest, args.ref, prepare=args.prepare)
    except PackageError as exc:
        print(f" !     {exc}", file=sys.stderr)
        return 1
    what = f"{tag}'s herokuify/django-s3-prepare" if args.prepare else tag
    print(f"-----> Packaged {what} into {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
