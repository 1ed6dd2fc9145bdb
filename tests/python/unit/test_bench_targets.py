"""The bench's issue 23 figures: CPU per PUT, and the unchanged redeploy against Django alone."""

from __future__ import annotations

import pytest

from bench import run
from bench.measure import KINDS
from bench.run import FIRST, UNCHANGED, UPLOAD_ONLY, Row, cpu_per_put, table, verdicts


def _row(tool: str, scenario: str, wall: float | None, cpu: float, puts: int = 0) -> Row:
    counts = {kind: 0 for kind in KINDS} | {"PUT": puts, "LIST": 1}
    return Row(tool, scenario, wall, counts, 32, 80.0, cpu, reference=None)


def _cpu_rows(s5cmd_first_cpu: float) -> list[Row]:
    return [
        _row(run.HEROKUIFY, FIRST, 14.0, 9.0, puts=2001),
        _row(run.HEROKUIFY, UNCHANGED, 1.5, 1.0),
        _row(run.FLOOR, UPLOAD_ONLY, 10.0, 5.0, puts=2000),
        _row(run.S5CMD, FIRST, 6.0, s5cmd_first_cpu, puts=2000),
        _row(run.S5CMD, UNCHANGED, 0.3, 0.2),
    ]


def _verdict(rows: list[Row], number: str) -> run.Verdict:
    found = verdicts(rows, concurrency=32, changed=20, pairs={})
    return next(v for v in found if v.target.startswith(f"{number}, "))


def test_cpu_per_put_leaves_out_what_the_unchanged_redeploy_costs():
    rows = _cpu_rows(s5cmd_first_cpu=8.2)
    cpu_per_put(rows)
    first, unchanged, floor, s5cmd, _ = rows
    assert first.cpu_per_put_ms == pytest.approx(1000 * (9.0 - 1.0) / 2001)
    assert unchanged.cpu_per_put_ms is None
    assert floor.cpu_per_put_ms == pytest.approx(1000 * 5.0 / 2000)  # no redeploy: all of it
    assert s5cmd.cpu_per_put_ms == pytest.approx(1000 * (8.2 - 0.2) / 2000)
    assert "| 4.00 |" in table(rows).splitlines()[2 + 3]


def test_no_cpu_per_put_where_the_redeploy_sent_files_or_a_run_did_not_finish():
    storages = [_row("django-storages", FIRST, 60.0, 50.0, 2127)]
    storages.append(_row("django-storages", UNCHANGED, 40.0, 30.0, 2000))
    unfinished = [_row(run.HEROKUIFY, FIRST, None, 9.0, 100), _row(run.HEROKUIFY, UNCHANGED, 1, 1)]
    rows = storages + unfinished
    cpu_per_put(rows)
    assert [row.cpu_per_put_ms for row in rows] == [None] * 4


@pytest.mark.parametrize(("s5cmd_cpu", "ok"), [(8.2, True), (7.0, False)])
def test_herokuify_s_cpu_per_put_at_most_s5cmd_s(s5cmd_cpu, ok):
    rows = _cpu_rows(s5cmd_cpu)
    cpu_per_put(rows)
    verdict = _verdict(rows, "23/cpu")
    assert verdict.ok is ok
    assert "= 4.00 ms" in verdict.detail  # herokuify's
    assert f"{run.FLOOR} 2.50 ms" in verdict.detail


def test_cpu_per_put_is_not_judged_without_s5cmd():
    rows = _cpu_rows(8.2)[:3]
    cpu_per_put(rows)
    assert _verdict(rows, "23/cpu").ok is None


@pytest.mark.parametrize(
    ("number", "tool", "alone"),
    [
        ("23/app", run.HEROKUIFY, run.DJANGO_ALONE),
        ("23/compressor", run.HEROKUIFY_COMPRESSOR, run.DJANGO_ALONE_COMPRESSOR),
    ],
)
@pytest.mark.parametrize(("redeploy", "ok"), [(1.2, True), (1.21, False)])
def test_the_unchanged_redeploy_at_most_1_2x_django_alone(number, tool, alone, redeploy, ok):
    rows = [_row(tool, UNCHANGED, redeploy, 1.1), _row(alone, "django.setup", 1.0, 0.5)]
    verdict = _verdict(rows, number)
    assert verdict.ok is ok
    assert f"= {redeploy:.2f}x (limit 1.2)" in verdict.detail


def test_the_redeploy_is_not_judged_without_django_alone():
    rows = [_row(run.HEROKUIFY, UNCHANGED, 1.0, 1.0), _row(run.DJANGO_ALONE, "setup", None, 0.5)]
    assert _verdict(rows, "23/app").ok is None
