"""The clock that pruning tests control: objects look older than they are in the listings the
test proxy relays.

moto stamps each object with the time it was written and cannot be told otherwise, and the build
has no knob for its own clock (nor should users have one). So the proxy rewrites LastModified in
ListObjects answers instead:

    aging = Aging()
    proxy.rewrite_listing = aging.rewrite
    aging.age_existing(by=timedelta(hours=2))  # what exists now looks two hours older
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

_LAST_MODIFIED = re.compile(rb"<LastModified>([^<]+)</LastModified>")
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # S3's and moto's, always to the millisecond


class Aging:
    def __init__(self) -> None:
        self.steps: list[tuple[datetime, timedelta]] = []  # (objects up to then, look older by)

    def age_existing(self, by: timedelta) -> None:
        """Objects written up to now look ``by`` older (more, if aged before) in every later
        listing. Returns once the second has turned: S3 stamps objects to the second, and the
        next ones must not be aged."""
        now = datetime.now(timezone.utc)
        self.steps.append((now.replace(microsecond=0), by))
        time.sleep(1.05 - now.microsecond / 1_000_000)

    def rewrite(self, body: bytes) -> bytes:
        return _LAST_MODIFIED.sub(self._aged, body)

    def _aged(self, match: re.Match[bytes]) -> bytes:
        written = datetime.strptime(match[1].decode(), _FORMAT).replace(tzinfo=timezone.utc)
        by = sum((step for mark, step in self.steps if written <= mark), timedelta(0))
        if not by:
            return match[0]
        shown = (written - by).strftime(_FORMAT)[:-4] + "Z"  # microseconds to milliseconds
        return b"<LastModified>" + shown.encode() + b"</LastModified>"
