"""Descriptors 1 and 2 masked: a real process writes to them in every way a build's code can."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SECRET = "planted-secret-value"

WRITER = f"""
import ctypes, logging, os, subprocess, sys, warnings
from herokuify_buildpack import masking
from herokuify_buildpack.platforms import handover
from herokuify_buildpack.redaction import Redactor

redactor = Redactor()
redactor.add([{SECRET!r}])
masking.mask_descriptors(redactor)
print("via-print", {SECRET!r})
print("via-stderr", {SECRET!r}, file=sys.stderr)
logging.getLogger("app").error("via-logging %s", {SECRET!r})
warnings.warn("via-warnings " + {SECRET!r})
os.write(1, b"via-fd1 " + {SECRET!r}.encode() + b"\\n")
os.write(2, b"via-fd2 " + {SECRET!r}.encode() + b"\\n")
sys.stdout.flush()
subprocess.run(["sh", "-c", "echo via-sh $0; echo via-sh-stderr $0 >&2", {SECRET!r}], check=True)
line = b"via-libc " + {SECRET!r}.encode() + b"\\n"
ctypes.CDLL(None).write(1, line, len(line))
ending = sys.argv[1]
if ending == "lingering-child":
    subprocess.Popen(["sleep", "5"])  # holds the pipe open after the build ends
if ending == "traceback":
    raise RuntimeError("via-traceback " + {SECRET!r})
handover.exit_now(0)
"""
MARKERS = ["via-print", "via-stderr", "via-logging", "via-warnings", "via-fd1", "via-fd2"]
MARKERS += ["via-sh", "via-sh-stderr", "via-libc"]


def run_writer(ending: str, merged: bool) -> tuple[str, float]:
    started = time.monotonic()
    code = f"import sys; sys.path.insert(0, {str(REPO)!r})\n{WRITER}"
    result = subprocess.run(
        [sys.executable, "-I", "-c", code, ending],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merged else subprocess.PIPE,
        timeout=30,
    )
    return result.stdout.decode() + (result.stderr or b"").decode(), time.monotonic() - started


@pytest.mark.parametrize("merged", [True, False], ids=["one-pipe", "two-pipes"])
@pytest.mark.parametrize("ending", ["exit-now", "traceback"])
def test_everything_written_to_the_descriptors_is_masked_and_kept(ending, merged):
    output, _ = run_writer(ending, merged)
    assert SECRET not in output
    for marker in MARKERS + (["via-traceback"] if ending == "traceback" else []):
        assert f"{marker} [hidden]" in output, marker


def test_a_child_holding_the_pipe_does_not_hold_up_the_end():
    output, elapsed = run_writer("lingering-child", merged=True)
    assert "via-libc [hidden]" in output
    assert elapsed < 5


GIL_HOLDING_WRITER = f"""
import ctypes, sys
sys.path.insert(0, {str(REPO)!r})
from herokuify_buildpack import masking
from herokuify_buildpack.platforms import handover
from herokuify_buildpack.redaction import Redactor

redactor = Redactor()
redactor.add([{SECRET!r}])
masking.mask_descriptors(redactor)
# PyDLL keeps the GIL during the call, as C extensions that print often do; far more than a
# pipe holds, so the write completes only if something outside this process drains the pipe.
line = (b"x" * 99 + b"\\n") * 3000 + {SECRET!r}.encode() + b"\\n"
ctypes.PyDLL(None).write(1, line, len(line))
handover.exit_now(0)
"""


def test_c_code_that_holds_the_gil_can_write_more_than_a_pipe_holds():
    result = subprocess.run(
        [sys.executable, "-I", "-c", GIL_HOLDING_WRITER], stdout=subprocess.PIPE, timeout=30
    )
    assert result.returncode == 0
    assert result.stdout == (b"x" * 99 + b"\n") * 3000 + b"[hidden]\n"


def test_a_killed_build_ends_its_masker_too():
    """The masker passes on what the build said, and ends soon after it, however it ended."""
    code = f"import sys; sys.path.insert(0, {str(REPO)!r})\n" + (
        "import os, signal\n"
        "from herokuify_buildpack import masking\n"
        "from herokuify_buildpack.redaction import Redactor\n"
        "redactor = Redactor(); redactor.add([" + repr(SECRET) + "])\n"
        "masking.mask_descriptors(redactor)\n"
        "os.write(1, b'before-kill " + SECRET + "\\n')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-I", "-c", code], stdout=subprocess.PIPE, timeout=30)
    assert result.returncode == -9
    assert result.stdout == b"before-kill [hidden]\n"
    assert time.monotonic() - started < 5
