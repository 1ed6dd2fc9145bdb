"""Runs one tool as a subprocess: wall time, peak RSS, time-stamped output, and a time limit.

It also counts the requests that reach the S3 proxy, sorted more finely than the proxy's own
counts: a GET on the bucket is a LIST only when it is a listing (ListObjects/ListObjectsV2);
bucket sub-resource reads such as GetBucketLocation (``GET /bucket?location``) count as GET.
"""

from __future__ import annotations

import collections
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
    wall: float
    returncode: int | None  # None: stopped at the time limit
    peak_rss_mb: float
    cpu_seconds: float  # user + system time of the process and its waited-for children
    lines: list[tuple[float, str]] = field(default_factory=list)  # (seconds from start, text)

    @property
    def finished(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        return "\n".join(text for _, text in self.lines)

    def first_line_at(self, starts_with: str) -> float | None:
        return next((at for at, text in self.lines if text.startswith(starts_with)), None)


def run(
    cmd: Sequence[str | os.PathLike[str]],
    env: Mapping[str, str],
    cwd: Path,
    timeout: float,
    log: Path,
) -> Run:
    """Run ``cmd`` to its end or to ``timeout`` seconds; its output also goes to ``log``, each
    line after the seconds since the start at which it arrived."""
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
    status: int | None = None
    rusage = None
    while True:
        pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            status, rusage = wait_status, usage
            break
        if time.monotonic() - started > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            _, wait_status, rusage = os.wait4(proc.pid, 0)
            status = None
            break
        time.sleep(0.01)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(wait_status)  # so Popen does not wait again
    reader.join(10)
    returncode = None if status is None else os.waitstatus_to_exitcode(status)
    # ru_maxrss is in kilobytes on Linux: the largest resident set of the process (or of the
    # largest of its waited-for children).
    cpu = rusage.ru_utime + rusage.ru_stime
    return Run(wall, returncode, rusage.ru_maxrss / 1024, cpu, lines)
