"""Build output that is shown live and kept: the caller watches a build and tests read it after."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

INDENT = " " * 7


class Transcript:
    """Text written here goes to `stream` at once and is kept for `text`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._parts: list[str] = []

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._stream.write(text)
        self._stream.flush()

    def step(self, message: str) -> None:
        self.write(f"-----> {message}\n")

    def info(self, message: str) -> None:
        for line in message.splitlines():
            self.write(f"{INDENT}{line}\n")

    def error(self, message: str) -> None:
        for line in message.splitlines():
            self.write(f" !     {line}\n")

    @property
    def text(self) -> str:
        return "".join(self._parts)


def run(
    cmd: Sequence[str | os.PathLike[str]],
    transcript: Transcript,
    env: Mapping[str, str],
    cwd: Path | None = None,
    line_filter: Callable[[str], str | None] | None = None,
) -> int:
    """Run `cmd` with stderr merged into stdout, passing each line (through `line_filter`, which
    may rewrite it or drop it with None) to the transcript as it comes; return the exit code."""
    with subprocess.Popen(
        cmd,
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            text = raw.decode("utf-8", errors="replace")
            line = line_filter(text) if line_filter is not None else text
            if line is not None:
                transcript.write(line if line.endswith("\n") else line + "\n")
    return proc.returncode
