"""The Steps line: each step's own time, in the build's order, and the bench's reading of it."""

from __future__ import annotations

import pytest

from bench.run import step_times
from herokuify_buildpack import steptimes
from herokuify_buildpack.steptimes import StepTimes


def test_the_line_lists_the_steps_that_ran_in_the_builds_order():
    times = StepTimes()
    times.add(steptimes.UPLOAD, 0.524)
    times.add(steptimes.LISTING_WAIT, 0.0)
    times.add(steptimes.DJANGO, 0.3149)
    times.add(steptimes.HASHING, 0.05)
    times.add(steptimes.COLLECT, 0.1)
    times.add(steptimes.COLLECT, 0.02)  # a step timed twice adds up
    # No compress, listing or record: they did not run, so they are left out.
    assert times.line() == (
        "Steps: Django 0.31 s, collect 0.12 s, hashing 0.05 s, listing wait 0.00 s, upload 0.52 s"
    )


class Clock:
    """Seconds that pass only when the test says."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_span_leaves_out_the_spans_nested_in_it():
    clock = Clock()
    times = StepTimes(clock)
    with times.step(steptimes.UPLOAD):
        clock.now += 1
        with times.step(steptimes.LISTING_WAIT):
            clock.now += 2
        with times.step(steptimes.RECORD):
            clock.now += 4
            with times.step(steptimes.LISTING_WAIT):
                clock.now += 8
        clock.now += 16
    assert times.seconds == {
        steptimes.LISTING_WAIT: 2 + 8,
        steptimes.RECORD: 4,
        steptimes.UPLOAD: 1 + 16,
    }


def test_a_span_that_fails_is_timed_all_the_same():
    clock = Clock()
    times = StepTimes(clock)
    with pytest.raises(RuntimeError), times.step(steptimes.UPLOAD):
        clock.now += 1
        with times.step(steptimes.RECORD):
            clock.now += 2
            raise RuntimeError("refused")
    assert times.seconds == {steptimes.RECORD: 2, steptimes.UPLOAD: 1}
    with times.step(steptimes.COLLECT):  # nothing left open by the failure
        clock.now += 4
    assert times.seconds[steptimes.COLLECT] == 4


def test_only_the_known_steps_are_timed():
    with pytest.raises(ValueError, match="unknown step 'uplaod'"):
        StepTimes().add("uplaod", 1.0)


def test_the_bench_reads_every_step_back():
    times = StepTimes()
    for index, name in enumerate(steptimes.ORDER):
        times.add(name, index + 0.25)
    output = "\n".join(
        [
            "-----> Uploading static files to s3://bucket/static/",
            "       Steps: earlier output, which only looks like the line",
            f"       {times.line()}",
            "-----> Done: 2 files uploaded, 0 unchanged, 10 B sent in 1.0 s to s3://bucket/static/",
        ]
    )
    assert step_times(output) == {name: index + 0.25 for index, name in enumerate(steptimes.ORDER)}
    assert step_times("-----> Done: 0 files uploaded") == {}
