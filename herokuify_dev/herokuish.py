"""Dokku's build, for real: herokuish (../shared/vendor/herokuish, or $HEROKUIFY_HEROKUISH),
unmodified, runs `buildpack build` as in Dokku's build container. The app's `.buildpacks` lists
Heroku's own heroku/python, then this buildpack, so herokuish runs them through
heroku-buildpack-multi, as Dokku does for an app with several buildpacks.

What Dokku's container has, given here (shared/research/real-heroku-python.md, "Dokku"):
- herokuish's bash, sourced in herokuish.go's order, with its Go wrapper's three helpers
  (herokuishtools.py) on PATH;
- setuidgid (daemontools), and herokuishuser, made by herokuish's own include/default_user.bash;
- heroku-buildpack-multi installed by herokuish's own `buildpack install`;
- its fixed paths, in a mount namespace: /app (the app, then the slug), a folder of the build's
  own, and /tmp, the host's: /tmp/env (config vars) and /tmp/build, made anew for each build,
  /tmp/cache (kept between an app's builds, as Dokku's cache volume is) and /tmp/buildpacks.
  Dokku's cache is a volume of its own; here it shares /tmp's file system, so heroku/python
  moves its cache into the build instead of copying it, which only saves time.
Every buildpack in `.buildpacks` must be a git repository multi can clone, owned by the build's
user: the two buildpacks are committed into repositories of their own first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from herokuify_dev.approot import in_mounts
from herokuify_dev.envdir import write_env_dir
from herokuify_dev.herokupython import RealHerokuPython
from herokuify_dev.localbuild import REPO_ROOT, STACK, BuildResult, Ignore, not_pushed
from herokuify_dev.package import copy_work_tree
from herokuify_dev.transcript import Transcript, run

VENDOR = REPO_ROOT.parent / "shared" / "vendor"
BUILD_USER = "herokuishuser"
BUILD_UID = 32767  # include/default_user.bash
# herokuish.go's scripts, in the order it loads them.
_INCLUDES = ("herokuish", "fn", "cmd", "buildpack", "procfile", "slug")
_TOOLS = ("yaml-keys", "yaml-get", "asset-cat")
# What outlives a build in the container's /tmp.
_KEPT_IN_TMP = {"buildpacks", "cache", "repos", "tools", "curl"}
# The build container's: herokuish calls usermod, from sbin.
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_GIT_IDENTITY = ["-c", "user.name=herokuify", "-c", "user.email=herokuify@localhost"]


def vendored(name: str, variable: str) -> Path | None:
    named = os.environ.get(variable)
    found = Path(named) if named else VENDOR / name
    return found if found.is_dir() else None


@dataclass(frozen=True)
class DokkuHost:
    """A Dokku host's parts that outlive one build: the buildpack repositories, the installed
    buildpacks, the tools, and the app's cache volume."""

    root: Path
    herokuish: Path
    heroku_python: RealHerokuPython

    @property
    def tmp(self) -> Path:
        """The build container's /tmp."""
        return self.root / "tmp"

    @property
    def cache(self) -> Path:
        return self.tmp / "cache"

    def mounts(self, app: Path) -> list[tuple[Path, Path]]:
        # /app first: once /tmp is bound, the host's folders under /tmp are hidden.
        return [(app, Path("/app")), (self.tmp, Path("/tmp"))]

    def clear_for_a_build(self) -> None:
        """/tmp as a new build container has it: only what outlives a build is kept."""
        for entry in self.tmp.iterdir():
            if entry.name not in _KEPT_IN_TMP:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()

    def env(self) -> dict[str, str]:
        network = self.heroku_python.network_env()
        network["CURL_HOME"] = "/tmp/curl"  # where mounts() puts it
        path = f"/tmp/tools:{CONTAINER_PATH}"
        return {"PATH": path, "USER": BUILD_USER, "STACK": STACK, **network}


@contextmanager
def dokku_host(heroku_python: RealHerokuPython) -> Iterator[DokkuHost]:
    """A Dokku host for builds run as herokuish runs them, removed afterwards."""
    if os.geteuid() != 0:
        raise PermissionError("herokuish runs as root and drops to its build user: run as root")
    herokuish = vendored("herokuish", "HEROKUIFY_HEROKUISH")
    multi = vendored("heroku-buildpack-multi", "HEROKUIFY_BUILDPACK_MULTI")
    if herokuish is None or multi is None:
        raise FileNotFoundError(
            "herokuish and heroku-buildpack-multi are not here: ../shared/vendor/ beside the repo"
        )
    if shutil.which("setuidgid") is None:
        raise FileNotFoundError("herokuish needs setuidgid: apt-get install daemontools")
    root = Path(tempfile.mkdtemp(prefix="dokku-"))
    try:
        root.chmod(0o755)
        host = DokkuHost(root, herokuish, heroku_python)
        tmp = host.tmp
        tmp.mkdir(mode=0o1777)
        tmp.chmod(0o1777)  # as /tmp is, whatever the umask
        _write_tools(tmp / "tools", herokuish)
        # heroku/python's Python download, answered by the local server, as seen inside.
        runtimes = heroku_python.runtimes
        (tmp / "curl").mkdir()
        shutil.copy(runtimes.ca_cert, tmp / "curl" / "ca.pem")
        runtimes.write_curlrc(tmp / "curl", "/tmp/curl/ca.pem")
        repos = tmp / "repos"
        _commit(heroku_python.source, repos / "heroku-python")
        _commit(copy_work_tree(root / "herokuify-package"), repos / "herokuify")
        _commit(multi, repos / "multi")
        # Multi clones the two buildpacks as the build's user, which git allows only in
        # repositories that user owns; herokuish installs multi itself as root.
        for folder in (repos / "heroku-python", repos / "herokuify", tmp / "cache"):
            folder.mkdir(exist_ok=True)
            _hand_over(folder)
        (tmp / "buildpacks").mkdir()
        _ensure_build_user(herokuish)
        _herokuish(host, ["buildpack", "install", "/tmp/repos/multi", "", "00_buildpack-multi"])
        yield host
    finally:
        shutil.rmtree(root, ignore_errors=True)


def build_app_dokku(
    app_dir: Path,
    config_vars: Mapping[str, str | bytes],
    host: DokkuHost,
    transcript: Transcript | None = None,
    ignore: Ignore | None = not_pushed,
) -> BuildResult:
    """Builds ``app_dir`` with herokuish; the result's build_dir is the slug, as /app holds it
    after the build, and its cache_dir the host's cache volume. ``ignore``: as build_app's."""
    transcript = transcript or Transcript()
    app = Path(tempfile.mkdtemp(prefix="build-", dir=host.root)) / "app"
    shutil.copytree(app_dir, app, symlinks=True, ignore=ignore)
    (app / ".buildpacks").write_text("/tmp/repos/heroku-python\n/tmp/repos/herokuify\n")
    host.clear_for_a_build()
    env_dir = host.tmp / "env"
    write_env_dir(env_dir, config_vars)
    # As for a classic build, a new cache volume starts from heroku/python's last build of the
    # same requirements (see CacheSeeds).
    python, seeds = host.heroku_python, host.heroku_python.seeds
    seed = seeds.restore(python.source, app, host.cache, STACK) if seeds else None
    result = BuildResult(app, host.cache, env_dir)
    code = _herokuish(host, ["buildpack", "build"], app, transcript)
    result.returncodes["herokuish"] = code
    result.outputs["herokuish"] = result.output = transcript.text
    if code == 0 and seeds is not None and seed is not None:
        seeds.save(seed, host.cache)
    return result


def _herokuish(
    host: DokkuHost, args: list[str], app: Path | None = None, transcript: Transcript | None = None
) -> int:
    """herokuish ARGS as root in the build container, with ``app`` as /app; its exit code."""
    if app is None:
        app = Path(tempfile.mkdtemp(prefix="setup-", dir=host.root))
    command = in_mounts(host.mounts(app), ["/tmp/tools/herokuish", *args])
    return run(command, transcript or Transcript(), host.env())


def _write_tools(tools: Path, herokuish: Path) -> None:
    """herokuish itself, as its Go wrapper runs its bash, and the wrapper's three helpers."""
    tools.mkdir(parents=True)
    sources = " ".join(f'"{herokuish}/include/{name}.bash"' for name in _INCLUDES)
    (tools / "herokuish").write_text(
        "#!/usr/bin/env bash\n"
        f'for script in {sources}; do source "$script"; done\n'
        "SELF=herokuish\n"
        'main "$@"\n'
    )
    helpers = Path(__file__).with_name("herokuishtools.py")
    for tool in _TOOLS:
        (tools / tool).write_text(
            f'#!/bin/sh\nexec "{sys.executable}" "{helpers}" "{herokuish}" {tool} "$@"\n'
        )
    for script in tools.iterdir():
        script.chmod(0o755)


def _commit(source: Path, repo: Path) -> None:
    """``source`` as the one commit of a new repository at ``repo``."""
    shutil.copytree(source, repo, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    for args in (["init", "-q"], ["add", "-A"], [*_GIT_IDENTITY, "commit", "-qm", "build"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _ensure_build_user(herokuish: Path) -> None:
    if subprocess.run(["id", BUILD_USER], capture_output=True).returncode == 0:
        return
    subprocess.run(["bash", herokuish / "include" / "default_user.bash"], check=True)


def _hand_over(folder: Path) -> None:
    """The build's user owns it, as git wants of a repository another user clones."""
    for root, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            os.chown(os.path.join(root, name), BUILD_UID, BUILD_UID, follow_symlinks=False)
    os.chown(folder, BUILD_UID, BUILD_UID)
