"""Starts a built slug the way a dyno does: the slug at /app (a private one, see approot.py),
HOME=/app, config vars in the environment, .profile.d/ sourced, then the Procfile's command with
$PORT; or a one-off command, as `heroku run` runs it; or any web process, such as an image's."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

from herokuify_dev.approot import in_app_root
from herokuify_dev.s3server import free_port

START_TIMEOUT = 30.0
CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin"
_BOOT = 'for script in "$HOME"/.profile.d/*.sh; do . "$script"; done; eval "$0"'


@dataclass(frozen=True)
class Dyno:
    url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, compare=False, repr=False)

    def get(self, path: str = "/") -> str:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return str(response.read().decode())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def procfile_command(build_dir: Path, process: str = "web") -> str:
    for line in (build_dir / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise LookupError(f"no {process} process in {build_dir / 'Procfile'}")


@contextmanager
def running_dyno(
    build_dir: Path, config_vars: Mapping[str, str], process: str = "web", user: int | None = None
) -> Iterator[Dyno]:
    """Runs the Procfile's process; the command is eval'd by the dyno's shell, as on Heroku.
    ``user``: the uid (and gid) to run as, where the platform runs apps as another user."""
    port = free_port()
    env = dyno_env(config_vars, process, port)
    command = in_dyno(build_dir, procfile_command(build_dir, process), user)
    with running_process(command, env, build_dir, port) as dyno:
        yield dyno


def run_one_off(
    build_dir: Path,
    config_vars: Mapping[str, str],
    command: str,
    timeout: float = 120,
    input: str | None = None,
    process: str = "run",
) -> subprocess.CompletedProcess[str]:
    """``heroku run COMMAND``: a one-off dyno on the slug (of ``process`` type), its output
    captured."""
    return subprocess.run(
        in_dyno(build_dir, command),
        env=dyno_env(config_vars, process, None),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def dyno_env(config_vars: Mapping[str, str], process: str, port: int | None) -> dict[str, str]:
    env = {**config_vars, "PATH": CLEAN_PATH, "HOME": "/app", "DYNO": f"{process}.1"}
    if port is not None:
        env["PORT"] = str(port)
    return env


def in_dyno(build_dir: Path, command: str, user: int | None = None) -> list[str]:
    """A dyno's shell running ``command`` in the slug at /app, as ``user`` if given."""
    as_user = [] if user is None else _as_user(user)
    return in_app_root(build_dir, [*as_user, "bash", "-c", _BOOT, command], cwd="/app")


def _as_user(uid: int) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]


@contextmanager
def running_process(
    command: list[str], env: Mapping[str, str], cwd: Path, port: int
) -> Iterator[Dyno]:
    """Runs a web process that listens on ``port``, until the block ends."""
    fd, log_name = tempfile.mkstemp(prefix="dyno-", suffix=".log")
    log = Path(log_name)
    with os.fdopen(fd, "wb") as log_file:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=dict(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    dyno = Dyno(f"http://127.0.0.1:{port}", log, proc)
    try:
        _wait_until_up(dyno, proc)
        yield dyno
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.unlink()


def _wait_until_up(dyno: Dyno, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the dyno exited with {proc.returncode}:\n{dyno.log()[-3000:]}")
        try:
            urllib.request.urlopen(dyno.url + "/", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answers; the test looks at the status itself
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the dyno did not answer within {START_TIMEOUT} s:\n{dyno.log()[-3000:]}")


def asset_urls(html: str) -> list[str]:
    """Every href and src in a page, unescaped as a browser would."""
    return [unescape(url) for url in re.findall(r'(?:href|src)="([^"]+)"', html)]
