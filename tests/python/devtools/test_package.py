"""script/package: a release tag's files, only what a platform runs and enough to build an app,
and its refusals. Each test has a repository of its own, holding this work tree's files with
tags of its own: CI's clone of main has no tags."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import tomllib

from herokuify_buildpack import __version__
from herokuify_dev.cnbbuild import build_app_cnb
from herokuify_dev.package import (
    DESCRIPTOR,
    PREPARE_DIR,
    VERSION_FILE,
    PackageError,
    package_release,
)
from herokuify_dev.standin import StandIn

REPO = Path(__file__).resolve().parents[3]
TAG = f"v{__version__}"
GIT = ["git", "-c", "user.name=herokuify", "-c", "user.email=herokuify@localhost"]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        [*GIT, "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def release_repo(tmp_path) -> Path:
    """A repository of this work tree's files as they are (committed or not, less what git
    ignores), in one commit tagged v and __version__."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    listed = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.exists() or source.is_symlink():  # not a file deleted but not yet committed
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name, follow_symlinks=False)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "The release")
    git(repo, "tag", TAG)
    return repo


def script_package(repo: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """The repository's own script/package, with this work tree's .venv (the same requirements,
    so its bootstrap has nothing to do)."""
    venv = repo / ".venv"
    if not venv.exists():
        venv.symlink_to(REPO / ".venv")
    command = [repo / "script" / "package", *args]
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=60)


def set_version(repo: Path, version: str) -> None:
    """Commits another version, in both the files that set it."""
    for name, line in ((VERSION_FILE, '__version__ = "{}"'), (DESCRIPTOR, 'version = "{}"')):
        path = repo / name
        path.write_text(path.read_text().replace(line.format(__version__), line.format(version)))
    git(repo, "commit", "-q", "-a", "-m", f"Version {version}")


def test_a_release_holds_the_buildpack_and_nothing_for_developers(release_repo, tmp_path):
    packaged = tmp_path / "pkg"
    assert package_release(packaged, repo=release_repo) == TAG
    top = {path.name for path in packaged.iterdir()}
    assert {"bin", "lib", "herokuify_buildpack", "buildpack.toml", "LICENSE", "CHANGELOG.md"} <= top
    for left_out in ("tests", "bench", "herokuify_dev", "test-fixtures", "script", "docs"):
        assert left_out not in top
    for left_out in (".packignore", ".gitignore", "CONTRIBUTING.md", "pyproject.toml"):
        assert left_out not in top
    for entry in ("detect", "compile", "release", "build"):
        assert (packaged / "bin" / entry).stat().st_mode & 0o111, entry


def test_the_packaged_buildpack_builds_an_app(release_repo, tmp_path, config_vars, standins):
    packaged = tmp_path / "pkg"
    package_release(packaged, repo=release_repo)
    build = build_app_cnb(
        REPO / "test-fixtures" / "minimal",
        config_vars,
        standins("minimal"),
        tmp_path / "cnb",
        buildpack_dir=packaged,
    )
    assert build.ok, build.output


def test_nothing_uncommitted_or_committed_after_the_tag_ships(release_repo, tmp_path):
    compile_script = release_repo / "bin" / "compile"
    tagged = compile_script.read_text()
    compile_script.write_text(tagged + "# changed, not committed\n")
    (release_repo / "lib" / "untracked.sh").write_text("# not committed\n")
    (release_repo / "lib" / "later.sh").write_text("# committed after the tag\n")
    git(release_repo, "add", "lib/later.sh")
    git(release_repo, "commit", "-q", "-m", "After the release")

    packaged = tmp_path / "pkg"
    package_release(packaged, repo=release_repo)
    assert (packaged / "bin" / "compile").read_text() == tagged
    assert not (packaged / "lib" / "untracked.sh").exists()
    assert not (packaged / "lib" / "later.sh").exists()


def test_without_the_versions_tag_it_refuses_in_one_line(release_repo, tmp_path):
    git(release_repo, "tag", "-d", TAG)
    done = script_package(release_repo, tmp_path / "pkg")
    assert done.returncode == 1, done.stdout
    assert done.stderr == (
        f" !     no tag {TAG} for the work tree's version: tag the release's commit "
        f"(git tag {TAG}) or pass --ref TAG\n"
    )
    assert not (tmp_path / "pkg").exists()


def test_the_default_tag_follows_the_work_tree_and_ref_packages_an_older_release(
    release_repo, tmp_path
):
    set_version(release_repo, "9.0.0")  # the next release, committed but not yet tagged
    refused = script_package(release_repo, tmp_path / "next")
    assert refused.returncode == 1
    assert refused.stderr.startswith(" !     no tag v9.0.0 for the work tree's version")

    older = tmp_path / "older"
    done = script_package(release_repo, "--ref", TAG, older)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"-----> Packaged {TAG} into {older}\n"
    assert f'__version__ = "{__version__}"' in (older / VERSION_FILE).read_text()


def test_a_tag_that_is_not_its_trees_version_is_refused(release_repo, tmp_path):
    git(release_repo, "tag", "v9.9.9")
    done = script_package(release_repo, "--ref", "v9.9.9", tmp_path / "pkg")
    assert done.returncode == 1
    assert done.stderr == (
        f" !     tag v9.9.9 holds version {__version__} ({VERSION_FILE}): "
        f"a release's tag is {TAG}\n"
    )
    assert not (tmp_path / "pkg").exists()


def test_a_branch_is_not_a_release(release_repo, tmp_path):
    git(release_repo, "branch", "next")
    with pytest.raises(PackageError, match=r"^no tag next \(git tag --list 'v\*'"):
        package_release(tmp_path / "pkg", "next", repo=release_repo)


def test_a_release_whose_buildpack_toml_says_another_version_is_refused(release_repo, tmp_path):
    descriptor = release_repo / DESCRIPTOR
    stale = descriptor.read_text().replace(f'version = "{__version__}"', 'version = "0.0.1"')
    descriptor.write_text(stale)
    git(release_repo, "commit", "-q", "-a", "-m", "A stale descriptor")
    git(release_repo, "tag", "-f", TAG)
    with pytest.raises(
        PackageError,
        match=rf"buildpack\.toml says version 0\.0\.1, __version__ {re.escape(__version__)};",
    ):
        package_release(tmp_path / "pkg", repo=release_repo)
    assert not (tmp_path / "pkg").exists()


def test_bin_build_names_the_layers_the_cnb_adapter_writes():
    from herokuify_buildpack.platforms.cnb import CACHE_LAYER, HELPER_LAYER

    script = (REPO / "bin" / "build").read_text()
    assert f'"${{layers_dir}}/{CACHE_LAYER}"' in script
    assert f'"${{layers_dir}}/{HELPER_LAYER}"' in script


def test_a_release_of_the_prepare_buildpack_holds_copies_not_links(release_repo, tmp_path):
    packaged = tmp_path / "prepare"
    assert package_release(packaged, repo=release_repo, prepare=True) == TAG
    assert {path.name for path in packaged.iterdir()} == {
        "LICENSE",
        "bin",
        "buildpack.toml",
        "herokuify_buildpack",
        "lib",
    }
    assert not [path for path in packaged.rglob("*") if path.is_symlink()]
    assert (packaged / "LICENSE").read_text() == (REPO / "LICENSE").read_text()
    assert (packaged / "herokuify_buildpack" / "platforms" / "cnbsettings.py").is_file()
    assert (packaged / "lib" / "helper.sh").is_file()
    for entry in ("detect", "build"):
        assert (packaged / "bin" / entry).stat().st_mode & 0o111, entry
    # And the other buildpack's release leaves it out.
    package_release(tmp_path / "pkg", repo=release_repo)
    assert not (tmp_path / "pkg" / PREPARE_DIR.name).exists()


def test_the_two_packaged_buildpacks_build_an_app_whose_settings_set_no_static_root(
    release_repo, tmp_path, config_vars, standins
):
    app = tmp_path / "app"
    shutil.copytree(REPO / "test-fixtures" / "minimal", app)
    settings = app / "minimal_site" / "settings.py"
    settings.write_text(settings.read_text().replace("STATIC_ROOT =", "UNUSED_STATIC_ROOT ="))
    package_release(tmp_path / "pkg", repo=release_repo)
    package_release(tmp_path / "prepare", repo=release_repo, prepare=True)
    minimal = standins("minimal")
    build = build_app_cnb(
        app,
        config_vars,
        StandIn(app, python=minimal.python, django=minimal.django),
        tmp_path / "cnb",
        buildpack_dir=tmp_path / "pkg",
        prepare_dir=tmp_path / "prepare",
    )
    assert build.ok, build.output


def test_the_prepare_buildpack_names_the_settings_module_the_cnb_adapter_knows():
    from herokuify_buildpack.platforms.cnb import PREPARE_ID, PREPARED_SETTINGS

    script = (PREPARE_DIR / "bin" / "build").read_text()
    assert f'SETTINGS_MODULE="{PREPARED_SETTINGS}"' in script
    descriptor = tomllib.loads((PREPARE_DIR / DESCRIPTOR).read_text())
    assert descriptor["buildpack"]["id"] == PREPARE_ID
