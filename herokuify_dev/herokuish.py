"""A stand-in for Dokku's herokuish: the classic buildpack API, run the way it differs from
Heroku (facts in shared/research/stores-and-platforms.md, "Dokku (herokuish)"):
- bin/compile runs as an unprivileged user (herokuish's herokuishuser, or a random u<N>), here
  a uid and gid of the test's own that no account holds;
- config vars are files in the env dir and are also exported into the process environment;
- the cache is a volume at a path of its own (/cache);
- the build happens in /tmp/build and is then moved to /app, where the app runs (HOME=/app).
The heroku/python stand-in runs first, as root, then the build dir is handed to that user.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from herokuify_dev.envdir import write_env_dir
from herokuify_dev.localbuild import (
    CLEAN_PATH,
    IGNORED,
    REPO_ROOT,
    SOURCE_EXPORT,
    STACK,
    BuildResult,
)
from herokuify_dev.standin import StandIn, collectstatic
from herokuify_dev.transcript import Transcript, run

# No account holds these: like herokuish's random u<N>, a user made for the build.
BUILD_UID = BUILD_GID = 32767


@contextmanager
def dokku_host() -> Iterator[Path]:
    """A folder for builds that the build's user can reach (a test's own tmp_path is root's
    alone), removed afterwards. Builds under it share its cache/, as an app's builds share the
    /cache volume."""
    if os.geteuid() != 0:
        raise PermissionError(
            "the herokuish stand-in runs bin/compile as another user: run as root"
        )
    host = Path(tempfile.mkdtemp(prefix="herokuish-"))
    try:
        host.chmod(0o755)
        yield host
    finally:
        shutil.rmtree(host, ignore_errors=True)


def build_app_dokku(
    app_dir: Path,
    config_vars: Mapping[str, str],
    standin: StandIn,
    host: Path,
    transcript: Transcript | None = None,
) -> BuildResult:
    """Builds ``app_dir`` in a new folder of ``host`` (from ``dokku_host``), in tmp-build/, then
    moves it to app/; the result's build_dir is app/."""
    transcript = transcript or Transcript()
    workdir = Path(tempfile.mkdtemp(prefix="build-", dir=host))
    workdir.chmod(0o755)
    build_dir, app_home = workdir / "tmp-build", workdir / "app"
    env_dir, cache_dir = workdir / "env", host / "cache"
    shutil.copytree(app_dir, build_dir, symlinks=True, ignore=shutil.ignore_patterns(*IGNORED))
    for folder in (cache_dir, app_home):
        folder.mkdir(exist_ok=True)
    write_env_dir(env_dir, config_vars)
    env = {**config_vars, "PATH": CLEAN_PATH, "HOME": str(app_home), "STACK": STACK}
    result = BuildResult(app_home, cache_dir, env_dir)

    transcript.step("Python app detected (stand-in for heroku/python, on Dokku)")
    standin_dir = standin.install_into(build_dir, workdir / "standin", runs_at=app_home, link=False)
    result.returncodes["heroku/python"] = collectstatic(build_dir, env_dir, env, transcript)
    for folder in (build_dir, cache_dir, env_dir, app_home):
        _hand_over(folder)
    bin_dir = REPO_ROOT / "bin"
    steps: dict[str, list[str | os.PathLike[str]]] = {
        "detect": [bin_dir / "detect", build_dir],
        "compile": [
            *("bash", "-c", SOURCE_EXPORT, standin_dir / "export", bin_dir / "compile"),
            *(build_dir, cache_dir, env_dir),
        ],
        "release": [bin_dir / "release", build_dir],
    }
    for name, cmd in steps.items():
        if any(code != 0 for code in result.returncodes.values()):
            break  # a failed step ends the build
        start = len(transcript.text)
        result.returncodes[name] = run(_as_build_user(cmd), transcript, env)
        result.outputs[name] = transcript.text[start:]
    if result.ok:
        app_home.rmdir()
        build_dir.rename(app_home)  # as herokuish moves /tmp/build to /app
    result.output = transcript.text
    return result


def _as_build_user(cmd: list[str | os.PathLike[str]]) -> list[str | os.PathLike[str]]:
    return [
        "setpriv", f"--reuid={BUILD_UID}", f"--regid={BUILD_GID}", "--clear-groups", "--", *cmd,
    ]  # fmt: skip


def _hand_over(folder: Path) -> None:
    for root, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            os.chown(os.path.join(root, name), BUILD_UID, BUILD_GID, follow_symlinks=False)
    os.chown(folder, BUILD_UID, BUILD_GID)
