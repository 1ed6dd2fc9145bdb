"""The lister process ends with the build, whatever ends the build, against a store that accepts
connections and never answers: otherwise it lives on, orphaned, until botocore gives up."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from herokuify_dev.faults import ALWAYS, Fault, FaultInjector, Rule
from herokuify_dev.localbuild import build_app
from herokuify_dev.proxy import running_proxy
from herokuify_dev.transcript import Transcript

FIXTURE = Path(__file__).resolve().parents[3] / "test-fixtures" / "minimal"
NEVER = 600  # seconds the silent store holds each request before it gives up
LIFETIME_AFTER_BUILD = 1.0  # seconds the lister may outlive the build


def processes_with(*needles: bytes) -> list[int]:
    """The processes whose command line holds every needle."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if all(needle in cmdline for needle in needles):
            pids.append(int(proc.name))
    return pids


def is_alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to read its status."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"waited {seconds} s for {what}")


@pytest.mark.parametrize("ending", ["fails", "sigterm", "sigkill"])
def test_the_lister_exits_within_a_second_of_the_builds_end(
    s3_server, config_vars, standins, tmp_path, ending
):
    with running_proxy(s3_server.endpoint_url) as silent:
        faults = FaultInjector(silent, stall_seconds=NEVER)
        faults.add(Rule(Fault.STALL, times=ALWAYS))
        config = {
            **config_vars,
            "AWS_S3_ENDPOINT_URL": silent.endpoint_url,
            "HEROKUIFY_S3_READ_TIMEOUT": str(NEVER),
        }
        if ending == "fails":
            # Refused by the build, while the lister starts its requests.
            config["HEROKUIFY_VERBOSITY"] = "loud"
        workdir = tmp_path / "build"
        outcome = {}

        def run() -> None:
            outcome["result"] = build_app(
                FIXTURE,
                config,
                standins("minimal"),
                workdir=workdir,
                stream=Transcript(io.StringIO()),
            )

        thread = threading.Thread(target=run)
        thread.start()
        cache = str(workdir / "cache").encode()
        (lister,) = wait_for(lambda: processes_with(b"listerprocess", cache), 60, "the lister")
        if ending != "fails":
            classic = b"herokuify_buildpack.platforms.classic"
            (build,) = wait_for(lambda: processes_with(classic, cache), 60, "the build's Python")
            wait_for(lambda: faults.keys("ListObjectsV2"), 30, "the stalled listing")
            os.kill(build, signal.SIGTERM if ending == "sigterm" else signal.SIGKILL)
        thread.join(60)
        ended = time.monotonic()
        result = outcome["result"]
        assert result.returncodes["compile"] != 0, result.output
        while is_alive(lister) and time.monotonic() - ended < 10:
            time.sleep(0.02)
        outlived = time.monotonic() - ended
        assert not is_alive(lister), "the lister still runs 10 s after the build ended"
        assert outlived < LIFETIME_AFTER_BUILD, f"the lister outlived the build by {outlived:.2f} s"
