"""The bench's measure of one tool: the CPU time of its whole process tree, what it leaves
running included, and its time limit."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench import measure

# Burns this much CPU time, then exits.
BURN = 0.4
BURNER = [
    sys.executable,
    "-c",
    f"import time\nt = time.process_time()\nwhile time.process_time() - t < {BURN}: pass",
]


def _shell(script: str, tmp_path: Path, timeout: float = 60.0) -> measure.Run:
    cmd = ["sh", "-c", script, "sh", *BURNER]
    return measure.run(cmd, {"PATH": "/usr/bin:/bin"}, tmp_path, timeout, tmp_path / "log")


def test_a_process_left_running_counts_in_the_cpu_time(tmp_path):
    # The shell exits at once and never waits for its child, as bin/compile's build leaves
    # the lister: wait4 on the shell alone would count next to nothing.
    run = _shell('"$@" & echo started', tmp_path)
    assert run.finished
    assert run.output == "started"
    assert run.cpu_seconds >= BURN
    assert not run.leftovers_killed


def test_the_children_a_process_waits_for_count_too(tmp_path):
    run = _shell('"$@"; "$@"', tmp_path)
    assert run.finished
    assert run.cpu_seconds >= 2 * BURN


def test_what_is_left_running_past_the_grace_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(measure, "LEFTOVER_GRACE", 0.2)
    run = _shell("sleep 60 & exit 3", tmp_path)
    assert run.returncode == 3
    assert run.leftovers_killed


def test_a_tool_past_its_time_limit_is_stopped_with_its_group(tmp_path):
    run = _shell("sleep 60 & sleep 60", tmp_path, timeout=0.3)
    assert run.returncode is None
    assert not run.finished
    assert not run.leftovers_killed


@pytest.mark.parametrize("exit_code", [0, 1])
def test_the_exit_code_is_the_tools_own(tmp_path, exit_code):
    assert _shell(f"exit {exit_code}", tmp_path).returncode == exit_code
