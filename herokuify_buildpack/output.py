"""Build output in Heroku's style, through logging, with every secret value masked.

Steps print as "-----> text", details indented by 7 spaces, warnings and errors as
" !     text". The one handler all of it passes through masks it with the build's one redactor,
before it is cut into lines; masking.py masks whatever else reaches the descriptors.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from herokuify_buildpack.redaction import Redactor

LOGGER_NAME = "herokuify"

log = logging.getLogger(LOGGER_NAME)
redact = Redactor()  # the process's one set of secrets, for this logger and for masking.py


class _HerokuFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if record.levelno >= logging.WARNING:
            prefix = " !     "
        elif getattr(record, "step", False):
            prefix = "-----> "
        else:
            prefix = "       "
        lines = redact(record.getMessage()).splitlines() or [""]
        return "\n".join(prefix + line for line in lines)


def setup(stream: TextIO = sys.stdout) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_HerokuFormatter())
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    # The app's LOGGING may reconfigure the root logger; ours stays independent of it.
    log.propagate = False


def keep_enabled() -> None:
    """dictConfig in an app's settings disables existing loggers, ours included; undo that."""
    log.disabled = False


def counted(number: int, noun: str) -> str:
    """``number`` with ``noun``, plural unless it is one: "1 file", "2 files", "0 files"."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def step(message: str) -> None:
    log.info(message, extra={"step": True})


def info(message: str) -> None:
    log.info(message)


def warning(message: str) -> None:
    """Something the user must fix, that does not fail the build."""
    log.warning(message)


def error(message: str) -> None:
    log.error(message)


class IndentedWriter:
    """A text stream that indents and masks what Django's commands print, line by line."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if line.strip():
                self.target.write(f"       {redact(line)}\n")
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.write("\n")
        self.target.flush()
