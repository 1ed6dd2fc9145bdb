"""Runs one tool as a subprocess: wall time, the CPU time and peak RSS of its whole process
tree, time-stamped output, and a time limit.

The bench is the tree's subreaper (prctl(2), PR_SET_CHILD_SUBREAPER): a process that its parent
leaves behind, such as herokuify's lister, which the build reads but never waits for, is handed
to the bench rather than to init, and the bench waits for it, so its CPU time is counted too.

It also counts the requests that reach the S3 proxy, sorted more finely than the proxy's own
counts: a GET on the bucket is a LIST only when it is a listing (ListObjects/ListObjectsV2);
bucket sub-resource reads such as GetBucketLocation (``GET /bucket?location``) count as GET.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from herokuify_dev.proxy import Connection, Request, S3Proxy

PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>
# How long the processes a tool leaves behind may run on after it exits before they are killed:
# herokuify's lister exits within milliseconds of the build, once no one reads its answers.
LEFTOVER_GRACE = 10.0
KINDS = ("PUT", "HEAD", "DELETE", "LIST", "GET", "POST")
# Query parameters of a listing; any other parameter names a bucket sub-resource.
_LISTING_PARAMS = {
    "list-type",
    "prefix",
    "delimiter",
    "continuation-token",
    "start-after",
    "max-keys",
    "encoding-type",
    "marker",
    "fetch-owner",
}


def request_kind(request: Request) -> str:
    if request.method != "GET":
        return request.method
    parts = urllib.parse.urlsplit(request.target)
    # Path-style addressing (the proxy's endpoint is an IP address): /bucket[/key].
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) > 1:
        return "GET"
    params = {name for name, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)}
    return "LIST" if params <= _LISTING_PARAMS else "GET"


class RequestCounter:
    """Installs itself as the proxy's handler; counts every request, then forwards it."""

    def __init__(self, proxy: S3Proxy) -> None:
        self.proxy = proxy
        self._counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0  # the most requests forwarded at once: the client's parallelism
        proxy.handler = self._handle

    async def _handle(self, conn: Connection, request: Request) -> bool:
        with self._lock:
            self._counts[request_kind(request)] += 1
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            return await self.proxy.forward(conn, request)
        finally:
            with self._lock:
                self._in_flight -= 1

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self.max_in_flight = 0
        self.proxy.reset()

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {kind: self._counts[kind] for kind in KINDS} | dict(self._counts)


@dataclass
class Run:
    wall: float  # until the tool's own process exits, as the platform waits for it
    returncode: int | None  # None: stopped at the time limit
    peak_rss_mb: float  # the largest resident set of any one process of the tree
    cpu_seconds: float  # user + system time of the whole process tree, leftovers included
    lines: list[tuple[float, str]] = field(default_factory=list)  # (seconds from start, text)
    leftovers_killed: bool = False  # processes still running LEFTOVER_GRACE after the tool

    @property
    def finished(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        return "\n".join(text for _, text in self.lines)

    def first_line_at(self, starts_with: str) -> float | None:
        return next((at for at, text in self.lines if text.startswith(starts_with)), None)


def adopt_orphans() -> None:
    """Makes this process the subreaper of its descendants (see the module's docstring)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def run(
    cmd: Sequence[str | os.PathLike[str]],
    env: Mapping[str, str],
    cwd: Path,
    timeout: float,
    log: Path,
) -> Run:
    """Run ``cmd`` to its end or to ``timeout`` seconds; its output also goes to ``log``, each
    line after the seconds since the start at which it arrived. Then wait for what it left
    running, up to LEFTOVER_GRACE seconds, so as to count its CPU time."""
    adopt_orphans()
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(part) for part in cmd],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so a time-out stops all of it
    )
    lines: list[tuple[float, str]] = []

    def read() -> None:
        assert proc.stdout is not None
        with log.open("w") as sink:
            for raw in proc.stdout:
                text = raw.decode(errors="replace").rstrip("\n")
                at = time.monotonic() - started
                lines.append((at, text))
                sink.write(f"{at:8.2f}  {text}\n")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    tree = _Tree(proc.pid)
    tree.wait(started + timeout)
    wall = tree.ended - started
    # So that Popen does not wait for it again.
    proc.returncode = -signal.SIGKILL if tree.returncode is None else tree.returncode
    reader.join(10)
    # ru_maxrss is in kilobytes on Linux.
    return Run(
        wall, tree.returncode, tree.peak_rss_kb / 1024, tree.cpu, lines, tree.leftovers_killed
    )


class _Tree:
    """The processes of one process group that this process may wait for: the tool's own, and
    those of its descendants that were left to this process, each with the CPU time of the
    children it waited for."""

    def __init__(self, pid: int) -> None:
        self.pid = pid  # also the group's id: the tool runs in a session of its own
        self.ended = 0.0
        self.returncode: int | None = None  # None: killed at the time limit
        self.cpu = 0.0
        self.peak_rss_kb = 0
        self.leftovers_killed = False

    def wait(self, time_limit: float) -> None:
        """Reaps the group's processes: the tool, killed with its group at ``time_limit``, then
        what it left running, killed LEFTOVER_GRACE seconds after it ended."""
        deadline, killed, tool_ended = time_limit, False, False
        while True:
            try:
                pid, status, usage = os.wait4(-self.pid, os.WNOHANG)
            except ChildProcessError:
                if not tool_ended:
                    raise RuntimeError(f"process {self.pid} left its process group") from None
                return  # no process of the group is left
            if pid == 0:
                if not killed and time.monotonic() > deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.pid, signal.SIGKILL)
                    killed = True
                    self.leftovers_killed = tool_ended
                time.sleep(0.01)
                continue
            self.cpu += usage.ru_utime + usage.ru_stime
            self.peak_rss_kb = max(self.peak_rss_kb, usage.ru_maxrss)
            if pid == self.pid:
                tool_ended, self.ended = True, time.monotonic()
                self.returncode = None if killed else os.waitstatus_to_exitcode(status)
                deadline = self.ended + LEFTOVER_GRACE
