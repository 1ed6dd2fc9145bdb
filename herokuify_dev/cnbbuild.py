"""Builds an app the way a Cloud Native Buildpack platform does (`pack build`, Heroku Fir): the
group docs/platforms.md gives (herokuify/django-s3-prepare, heroku/python's stand-in, then this
buildpack) through the lifecycle stand-in; and runs the image.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from herokuify_dev.cnbpython import write_buildpack
from herokuify_dev.dyno import CLEAN_PATH, Dyno, procfile_command, running_process
from herokuify_dev.lifecycle import Lifecycle, LifecycleResult
from herokuify_dev.localbuild import REPO_ROOT
from herokuify_dev.package import PREPARE_DIR
from herokuify_dev.s3server import free_port
from herokuify_dev.standin import StandIn
from herokuify_dev.transcript import Transcript


@dataclass(frozen=True)
class CnbBuild:
    lifecycle: Lifecycle
    result: LifecycleResult

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def output(self) -> str:
        return self.result.output


def build_app_cnb(
    app_dir: Path,
    config_vars: Mapping[str, str | bytes],
    standin: StandIn,
    root: Path,
    transcript: Transcript | None = None,
    buildpack_dir: Path = REPO_ROOT,
    prepare_dir: Path | None = PREPARE_DIR,
) -> CnbBuild:
    """Builds ``app_dir`` under ``root``; a later build under the same root is a rebuild, with
    the cache and the previous image. ``prepare_dir=None`` leaves the prepare buildpack out of
    the group, as an app that lists only heroku/python and this buildpack does."""
    root.mkdir(parents=True, exist_ok=True)
    python_buildpack = write_buildpack(root / "heroku-python-standin", standin)
    base_env = {"PATH": CLEAN_PATH, "HOME": str(root / "home")}
    (root / "home").mkdir(exist_ok=True)
    group = [python_buildpack, buildpack_dir]
    if prepare_dir is not None:
        group.insert(0, prepare_dir)
    lifecycle = Lifecycle(root, group, base_env, transcript or Transcript())
    return CnbBuild(lifecycle, lifecycle.build(app_dir, config_vars))


@contextmanager
def running_image(
    build: CnbBuild, runtime_env: Mapping[str, str], process: str = "web"
) -> Iterator[Dyno]:
    """Runs the image's Procfile process as `docker run IMAGE <command>` would: the launcher's
    environment (runtime env plus launch layers), no DYNO, in the app dir."""
    lifecycle = build.lifecycle
    port = free_port()
    env = lifecycle.launch_env(
        {**runtime_env, "PATH": CLEAN_PATH, "HOME": str(lifecycle.workspace), "PORT": str(port)},
        process,
    )
    command = procfile_command(lifecycle.workspace, process)
    with running_process(["bash", "-c", f"exec {command}"], env, lifecycle.workspace, port) as dyno:
        yield dyno
