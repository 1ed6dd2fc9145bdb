"""Secrets masked where the build's output meets its file descriptors 1 and 2.

Once the config vars are read, each descriptor becomes a pipe whose reader thread masks what
arrives and writes it on to where the descriptor led before. Whatever writes to them is covered:
Python's prints, logging and warnings, the app's own code, subprocesses that inherit them and C
code that calls write(2).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from dataclasses import dataclass

from herokuify_buildpack.redaction import Redactor

# A child that inherited a pipe and outlives the build keeps the pipe open, so its reader never
# sees the end: the build waits this long for it, then goes on.
_DRAIN_TIMEOUT = 2.0
_READ_SIZE = 65536


@dataclass
class _MaskedPipe:
    descriptors: tuple[int, ...]  # what now writes into the pipe
    original: int  # a copy of where they led before
    reader: threading.Thread


_pipes: list[_MaskedPipe] = []


def mask_descriptors(redactor: Redactor) -> None:
    """From now on, what is written to descriptors 1 and 2 reaches them masked by ``redactor``.

    If both lead to the same place (the platform's log, usually), they share one pipe, so that
    their lines keep the order they were written in."""
    if _pipes:
        return
    stdout, stderr = os.fstat(1), os.fstat(2)
    shared = (stdout.st_dev, stdout.st_ino) == (stderr.st_dev, stderr.st_ino)
    for descriptors in [(1, 2)] if shared else [(1,), (2,)]:
        original = os.dup(descriptors[0])  # not inheritable: no child holds the log open
        read_end, write_end = os.pipe()
        for descriptor in descriptors:
            os.dup2(write_end, descriptor)
        os.close(write_end)
        reader = threading.Thread(
            target=_pass_on,
            args=(read_end, original, redactor),
            name=f"herokuify-mask-{'-'.join(map(str, descriptors))}",
            daemon=True,
        )
        reader.start()
        _pipes.append(_MaskedPipe(descriptors, original, reader))
    # An exception that escapes prints its traceback into the pipes before this runs.
    atexit.register(restore_descriptors)


def restore_descriptors() -> None:
    """Puts descriptors 1 and 2 back, once what was written to them has passed: the end of the
    build, before os._exit, which would lose what the readers still hold."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    for pipe in _pipes:
        for descriptor in pipe.descriptors:
            os.dup2(pipe.original, descriptor)  # closes this end of the pipe
    for pipe in _pipes:
        pipe.reader.join(_DRAIN_TIMEOUT)
    _pipes.clear()


def _pass_on(read_end: int, original: int, redactor: Redactor) -> None:
    masker = redactor.stream()
    try:
        while chunk := os.read(read_end, _READ_SIZE):
            _write_all(original, masker.feed(chunk))
        _write_all(original, masker.close())
    finally:
        # Should masking ever fail, writers get an error rather than a full pipe: the build
        # ends instead of hanging, and nothing unmasked is written.
        os.close(read_end)


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(descriptor, view) :]
        except OSError:
            # The log's reader is gone: keep reading the pipe, so that no writer blocks on it.
            return
