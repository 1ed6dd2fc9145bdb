"""Secrets masked where the build's output meets its file descriptors 1 and 2.

Once the config vars are read, each descriptor becomes a pipe, and a process of its own, forked
from the build, masks what arrives and writes it on to where the descriptor led before.
Whatever writes to them is covered: Python's prints, logging and warnings, the app's own code,
subprocesses that inherit them and C code that calls write(2).

A process, not a thread: C code that writes while it holds the GIL (a compiler extension, say)
would block on a full pipe that a thread of the same process could never drain.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import select
import signal
import sys
import time
from dataclasses import dataclass

from herokuify_buildpack.redaction import Redactor, StreamMasker

# A child that inherited a pipe and outlives the build keeps the pipe open, so the masker never
# sees its end: once the build is over, the masker passes on what comes for this long, then ends,
# and the build waits for it no longer than that.
_DRAIN_TIMEOUT = 2.0
_READ_SIZE = 65536
# Said once, in place of the rest of the output, should masking itself ever fail.
_WITHHELD = b" !     herokuify: masking the build output failed; the rest of it is withheld\n"


@dataclass
class _Masker:
    pid: int
    originals: dict[int, int]  # each masked descriptor -> a copy of where it led before
    alive: int  # held by the build alone: its end tells the masker the build is over


_masker: _Masker | None = None


def mask_descriptors(redactor: Redactor) -> None:
    """From now on, what is written to descriptors 1 and 2 reaches them masked by ``redactor``.

    Call it before any thread starts: the masker is forked, with the secrets in its memory only.
    If both descriptors lead to the same place (the platform's log, usually), they share one
    pipe, so that their lines keep the order they were written in."""
    global _masker
    if _masker is not None:
        return
    stdout, stderr = os.fstat(1), os.fstat(2)
    shared = (stdout.st_dev, stdout.st_ino) == (stderr.st_dev, stderr.st_ino)
    groups = [(1, 2)] if shared else [(1,), (2,)]
    pipes = [(group, *os.pipe(), os.dup(group[0])) for group in groups]
    build_over, alive = os.pipe()  # not inheritable: no subprocess of the build holds it
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # else the masker's copy of the buffers would be written twice
    pid = os.fork()
    if pid == 0:
        pairs = [(read_end, original) for _, read_end, _, original in pipes]
        _run_masker(pairs, build_over, redactor)
    os.close(build_over)
    originals = {}
    for group, read_end, write_end, original in pipes:
        os.close(read_end)
        for descriptor in group:
            os.dup2(write_end, descriptor)
            originals[descriptor] = original
        os.close(write_end)
    _masker = _Masker(pid, originals, alive)
    # An exception that escapes prints its traceback into the pipes before this runs.
    atexit.register(restore_descriptors)


def restore_descriptors() -> None:
    """Puts descriptors 1 and 2 back, once what was written to them has passed: the end of the
    build, before os._exit."""
    global _masker
    if _masker is None:
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    for descriptor, original in _masker.originals.items():
        os.dup2(original, descriptor)  # closes the build's end of the pipe
    os.close(_masker.alive)
    deadline = time.monotonic() + _DRAIN_TIMEOUT + 0.5
    while time.monotonic() < deadline and os.waitpid(_masker.pid, os.WNOHANG) == (0, 0):
        time.sleep(0.002)
    _masker = None


def _run_masker(pipes: list[tuple[int, int]], build_over: int, redactor: Redactor) -> None:
    """The forked masker's whole life: pass each pipe on to its original, masked, to its end or
    until _DRAIN_TIMEOUT after the build's, whether it ended well or was killed."""
    # Ctrl-C or the platform's stop reaches the whole group; the masker stays to pass on what
    # the build still says, and ends when every writer has.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _close_all_but(sorted({build_over, *(fd for pair in pipes for fd in pair)}))
    maskers = {read_end: (original, redactor.stream()) for read_end, original in pipes}
    try:
        _pass_on(maskers, build_over)
    except Exception:
        for original, _ in maskers.values():
            _write_all(original, _WITHHELD)
        _drain(list(maskers))
    os._exit(0)


def _close_all_but(kept: list[int]) -> None:
    """Closes every descriptor the masker inherited but must not hold: the pipes' write ends,
    or it would never see their end, and the build's own (the lister's answers, say)."""
    start = 3
    for descriptor in kept:
        os.closerange(start, descriptor)
        start = descriptor + 1
    os.closerange(start, os.sysconf("SC_OPEN_MAX"))


def _pass_on(maskers: dict[int, tuple[int, StreamMasker]], build_over: int) -> None:
    deadline: float | None = None
    while maskers:
        waiting = [*maskers, build_over] if deadline is None else list(maskers)
        timeout = None if deadline is None else deadline - time.monotonic()
        if timeout is not None and timeout <= 0:
            return  # what is held back may begin a secret: it is dropped, never written
        readable, _, _ = select.select(waiting, [], [], timeout)
        for read_end in readable:
            if read_end == build_over:
                deadline = time.monotonic() + _DRAIN_TIMEOUT
                continue
            original, masker = maskers[read_end]
            chunk = os.read(read_end, _READ_SIZE)
            if chunk:
                _write_all(original, masker.feed(chunk))
            else:
                _write_all(original, masker.close())
                os.close(read_end)
                del maskers[read_end]


def _drain(read_ends: list[int]) -> None:
    """Reads to the end and writes nothing, so that no writer blocks on a full pipe."""
    while read_ends:
        readable, _, _ = select.select(read_ends, [], [])
        for read_end in readable:
            with contextlib.suppress(OSError):
                if os.read(read_end, _READ_SIZE):
                    continue
            read_ends.remove(read_end)


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(descriptor, view) :]
        except BlockingIOError:
            # The log was opened non-blocking, and dup shares that: wait until it takes more.
            select.select([], [descriptor], [])
        except OSError as exc:
            if exc.errno in (errno.EPIPE, errno.EBADF):
                return  # the log's reader is gone: keep reading the pipes all the same
            raise
