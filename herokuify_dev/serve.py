"""`script/local-build APP --serve`: the slug a local build made, run as Heroku runs its web dyno
(dyno.py: the slug at /app, HOME=/app, the config vars, .profile.d sourced, $PORT), its log shown
as it comes, until Ctrl-C. The caller keeps the S3 server up meanwhile."""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType

from herokuify_dev.dyno import Dyno, dyno_env, in_dyno, procfile_command, running_process
from herokuify_dev.s3server import free_port
from herokuify_dev.standin import find_manage_py

# Without a web process Heroku starts no web dyno; a rehearsal still wants a page to look at.
# --noreload: the slug does not change while it runs, and one process is simpler to stop.
RUNSERVER = "python {manage} runserver 0.0.0.0:$PORT --noreload"
_POLL = 0.2


def web_command(slug: Path) -> tuple[str, str]:
    """The web dyno's command, and where it comes from."""
    try:
        return procfile_command(slug, "web"), "the Procfile's web process"
    except (LookupError, FileNotFoundError):
        pass
    manage = find_manage_py(slug)
    if manage is None:
        raise LookupError("the slug has no Procfile web process and no manage.py")
    command = RUNSERVER.format(manage=manage.relative_to(slug))
    return command, "no web process in a Procfile, where Heroku would start no web dyno"


def serve(slug: Path, config_vars: Mapping[str, str]) -> int:
    """Runs the web dyno until Ctrl-C (or SIGTERM): 0 then, 1 if it could not start or exited."""
    try:
        command, origin = web_command(slug)
    except LookupError as exc:
        print(f" !     Nothing to serve: {exc}")
        return 1
    print(f"-----> Starting web.1: {command} ({origin})", flush=True)
    port = free_port()
    code = 0
    try:
        with (
            _sigterm_as_ctrl_c(),
            running_process(
                in_dyno(slug, command), dyno_env(config_vars, "web", port), slug, port
            ) as dyno,
        ):
            print(f"-----> Serving at {dyno.url}/ until Ctrl-C; web.1's log follows", flush=True)
            code = _follow(dyno)
    except KeyboardInterrupt:
        pass  # while it started: running_process has stopped it
    except RuntimeError as exc:  # it exited, or never answered, before it was up
        print(f" !     web.1 did not start: {exc}")
        return 1
    print("-----> Stopped web.1")
    return code


def _follow(dyno: Dyno) -> int:
    """Copies the dyno's log to stdout until Ctrl-C (0) or until the dyno exits (1)."""
    assert dyno.process is not None
    out = sys.stdout.buffer
    with dyno.log_path.open("rb") as log:
        try:
            while dyno.process.poll() is None:
                out.write(log.read())
                out.flush()
                time.sleep(_POLL)
        except KeyboardInterrupt:
            out.write(log.read())
            return 0
        out.write(log.read())
    print(f" !     web.1 exited with code {dyno.process.returncode}")
    return 1


@contextlib.contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """A SIGTERM (a test's, a supervisor's) ends serving as Ctrl-C does, so that the dyno and
    the S3 server are stopped and the local bucket is kept."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
