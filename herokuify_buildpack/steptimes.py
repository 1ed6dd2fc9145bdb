"""How long each step of a build (or of a release phase that publishes) took, for one line of
the log, so that a user or the bench sees which step grew.

Steps that run in the build's own thread are spans (``step``): a span's time leaves out the
spans nested in it, so that "upload" does not count the listing wait or the record inside it.
Steps that run beside the build, in another process or thread, are added whole (``add``): the
hashing and the listing. The listing also has its wait, which is what it cost the build; the
hashing's is part of the upload's scan. A step that did not run is left out of the line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

DJANGO = "Django"  # django.setup(): the app's settings and apps loaded
COLLECT = "collect"  # the sources checked, STATIC_ROOT cleared, collectstatic and its links
COMPRESS = "compress"  # django-compressor's offline compress
HASHING = "hashing"  # the sources' ETags, in a second process beside collectstatic
LISTING = "listing"  # the bucket checked and static/ listed, by the lister beside the build
LISTING_WAIT = "listing wait"  # how long the build waited for the lister's answers
UPLOAD = "upload"  # STATIC_ROOT scanned, the plan, the transfer, the build cache saved
RECORD = "record"  # the bucket's bookkeeping: the app's mark, the release record, pruning
ORDER = (DJANGO, COLLECT, COMPRESS, HASHING, LISTING, LISTING_WAIT, UPLOAD, RECORD)


class StepTimes:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.seconds: dict[str, float] = {}
        self._nested: list[float] = []  # per open span, the time of the spans inside it

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Times the block as ``name``, less the spans nested in it; repeated, they add up."""
        started = self._clock()
        self._nested.append(0.0)
        try:
            yield
        finally:
            elapsed = self._clock() - started
            self.add(name, elapsed - self._nested.pop())
            if self._nested:
                self._nested[-1] += elapsed

    def add(self, name: str, seconds: float) -> None:
        """A step timed elsewhere: in another process, or in another thread."""
        if name not in ORDER:
            raise ValueError(f"unknown step {name!r}")
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def line(self) -> str:
        """``Steps: Django 0.31 s, collect 0.12 s, …``, in the order the build runs them."""
        shown = (f"{name} {self.seconds[name]:.2f} s" for name in ORDER if name in self.seconds)
        return "Steps: " + ", ".join(shown)
