"""Pruning old assets without deleting what another build relies on, however builds interleave.

A build skips uploading an object because its listing showed it, so a prune running meanwhile
could delete it from under the build. Two writes, each followed by a read, prevent that (S3's
reads, listings included, see every write that finished before them):

- a build that prunes writes an intent (the keys it relies on, see releases.py) before it plans
  from its listing, then lists ``static/.herokuify/prunes/``;
- a prune writes ``prunes/<id>.started`` before its first delete, then reads the release records
  and intents again before each batch of deletes, and writes ``<id>.done`` after its last one.

Of the two reads, at least one comes after the other side's write. If the prune's does, it
spares the build's keys. If the build's does, it sees a prune its listing may not reflect: it
waits for that prune to end, lists the bucket again and uploads what is missing. A prune sends no
delete PRUNE_WINDOW after it began (a botocore hook refuses to), so a marker without ``.done``
stops counting as running after PRUNE_LEASE: a build killed mid-prune delays others, never
blocks them. A release recorded while a prune runs is kept, whatever its rank.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from herokuify_buildpack.bucket import deletion, releases
from herokuify_buildpack.bucket.listing import RemoteObject, list_prefix

PRUNE_GRACE = timedelta(hours=1)  # never delete an asset younger than this
PRUNE_WINDOW = 60.0  # seconds: a prune sends no delete later than this after it began
PRUNE_LEASE = timedelta(seconds=2 * PRUNE_WINDOW)  # a started marker's life without .done
FORGET_AFTER = timedelta(days=1)  # intents and markers this old are from builds long over
STARTED, DONE = ".started", ".done"
_POLL_SECONDS = 0.5
_ATTEMPTS = 5  # listings of the bookkeeping before a batch, while it keeps changing

Listing = dict[str, RemoteObject]


class PruneWindowClosed(Exception):
    """A delete that would have been sent after PRUNE_WINDOW."""


class _Vanished(Exception):
    """A record or intent listed a moment ago is gone: another build deleted it since."""


@dataclass(frozen=True)
class PruneResult:
    deleted: int
    kept_releases: int
    finished: bool = True  # False when the window closed before every batch was sent


def prunes_prefix(prefix: str) -> str:
    return f"{releases.bookkeeping_prefix(prefix)}prunes/"


def rely_on_listing(
    client: Any,
    bucket: str,
    prefix: str,
    keys: Collection[str],
    listing: Listing,
    listed_within: timedelta,
    relist: Callable[[], Listing],
    on_wait: Callable[[], None],
) -> tuple[Listing, str]:
    """What a build of an app that prunes does before it plans from ``listing``: the listing to
    plan from (``listing``, or ``relist()`` once the prunes it missed have ended), and the key
    of its intent, to delete once its release is recorded.

    ``listed_within``: how long before now the listing may have been read. Its ranges are read
    at once, in any order, so a prune that ended while they were read may show as done in one
    and not yet in another: only one whose end is older than all of them is reflected."""
    intent, written = releases.record_intent(client, bucket, prefix, keys)
    since_written = time.monotonic()
    listed_after = written - listed_within
    waited = False
    while True:
        markers = list_prefix(client, bucket, prunes_prefix(prefix).rstrip("/"))
        missed = [
            key
            for key in markers
            if key.endswith(STARTED)
            and (_done(key) not in listing or listing[_done(key)].last_modified >= listed_after)
        ]
        if not missed:
            return listing, intent
        # S3's clock, from its answer to the intent: the build's own may be off.
        now = written + timedelta(seconds=time.monotonic() - since_written)
        running = [
            key
            for key in missed
            if _done(key) not in markers and now - markers[key].last_modified < PRUNE_LEASE
        ]
        if not running:
            return relist(), intent
        if not waited:
            on_wait()
            waited = True
        time.sleep(_POLL_SECONDS)


def prune(
    client: Any,
    bucket: str,
    prefix: str,
    listing: Listing,
    release: Mapping[str, str],
    keep_releases: int,
    grace: timedelta = PRUNE_GRACE,
) -> PruneResult:
    """Delete assets that neither this release, nor the ``keep_releases - 1`` recorded before
    it, nor a build in progress uses, and that are older than ``grace``; with the records and
    intents that are done with. Nothing is deleted until ``keep_releases`` are recorded."""
    history = _History(client, bucket, prefix, listing, release, keep_releases, grace)
    planned = history.settled_doomed(listing)
    if not planned:
        return PruneResult(0, history.kept_releases(listing))
    began = time.monotonic()
    marker = f"{prunes_prefix(prefix)}{releases.stamp()}-{uuid.uuid4().hex[:8]}"
    client.put_object(Bucket=bucket, Key=marker + STARTED, Body=b"")
    deleted = 0
    try:
        with _refusing_deletes_after(client, began + PRUNE_WINDOW):
            for start in range(0, len(planned), deletion.BATCH):
                now_doomed = set(history.settled_doomed(history.reread()))
                chunk = planned[start : start + deletion.BATCH]
                batch = [key for key in chunk if key in now_doomed]
                if batch:
                    deletion.delete_keys(client, bucket, batch)
                    deleted += len(batch)
    except PruneWindowClosed:
        return PruneResult(deleted, keep_releases, finished=False)
    finally:
        client.put_object(Bucket=bucket, Key=marker + DONE, Body=b"")
    history.end_dead_prunes()
    return PruneResult(deleted, keep_releases)


@dataclass
class _History:
    """The release records and intents, as listed; their keys are read once each."""

    client: Any
    bucket: str
    prefix: str
    listing: Listing  # what the build listed first: the assets it may delete
    release: Mapping[str, str]
    keep_releases: int
    grace: timedelta
    read_keys: dict[str, list[str]] = field(default_factory=dict)
    latest: Listing = field(init=False)  # the view of the last reread

    def __post_init__(self) -> None:
        self.latest = self.listing

    def reread(self) -> Listing:
        """The assets as first listed, with the bookkeeping as it is now."""
        book = releases.bookkeeping_prefix(self.prefix)
        assets = {key: held for key, held in self.listing.items() if not key.startswith(book)}
        self.latest = assets | list_prefix(self.client, self.bucket, book.rstrip("/"))
        return self.latest

    def settled_doomed(self, view: Listing) -> list[str]:
        """``doomed(view)``, listed again while a record or intent vanishes as it is read: the
        record that replaced an intent may be newer than the listing that showed the intent."""
        for _ in range(_ATTEMPTS):
            try:
                return self.doomed(view)
            except _Vanished:
                view = self.reread()
        return []  # the bookkeeping keeps changing under this prune: delete nothing now

    def kept_releases(self, view: Listing) -> int:
        return min(len(self._previous(view)) + 1, self.keep_releases)

    def doomed(self, view: Listing) -> list[str]:
        previous = self._previous(view)
        if len(previous) < self.keep_releases - 1:
            return []
        retired = previous[: len(previous) - (self.keep_releases - 1)]
        # A record written since the first listing is a release deployed during this prune.
        retired = [record for record in retired if record in self.listing]
        kept = [record for record in previous if record not in retired]
        now = datetime.now(timezone.utc)
        intents = [key for key in view if key.startswith(releases.intents_prefix(self.prefix))]
        live = [key for key in intents if now - view[key].last_modified < FORGET_AFTER]
        in_use = set(self.release)
        for source in kept + live:
            in_use.update(self._keys_of(source))
        young = now - self.grace
        book = releases.bookkeeping_prefix(self.prefix)
        markers = [key for key in view if key.startswith(prunes_prefix(self.prefix))]
        doomed = [
            key
            for key, held in view.items()
            if not key.startswith(book) and key not in in_use and held.last_modified < young
        ]
        doomed += [record for record in retired if view[record].last_modified < young]
        doomed += [key for key in intents if key not in live]
        # A .started goes before its .done, so that no build sees a prune begun and not ended.
        doomed += [
            key
            for key in markers
            if now - view[key].last_modified >= FORGET_AFTER
            and (key.endswith(STARTED) or key.removesuffix(DONE) + STARTED not in view)
        ]
        return sorted(doomed)

    def end_dead_prunes(self) -> None:
        """Marks done the prunes that died before saying so: past their lease they send nothing,
        and builds need not list the bucket again for them."""
        now = datetime.now(timezone.utc)
        for key, held in self.latest.items():
            if (
                key.startswith(prunes_prefix(self.prefix))
                and key.endswith(STARTED)
                and _done(key) not in self.latest
                and now - held.last_modified >= PRUNE_LEASE
            ):
                self.client.put_object(Bucket=self.bucket, Key=_done(key), Body=b"")

    def _previous(self, view: Listing) -> list[str]:
        """The records of other releases than this build's, oldest first."""
        digest = releases.release_digest(self.release)
        records = releases.record_keys(view, self.prefix)
        return [record for record in records if not record.endswith(f"-{digest}.json")]

    def _keys_of(self, source: str) -> list[str]:
        if source not in self.read_keys:
            try:
                self.read_keys[source] = releases.recorded_keys(self.client, self.bucket, source)
            except Exception as exc:
                if getattr(exc, "response", {}).get("Error", {}).get("Code") == "NoSuchKey":
                    raise _Vanished from exc
                raise
        return self.read_keys[source]


@contextmanager
def _refusing_deletes_after(client: Any, deadline: float) -> Iterator[None]:
    """Every attempt of a DeleteObjects, retries included, is refused once ``deadline`` (on the
    monotonic clock) has passed: builds trust a prune's marker for PRUNE_LEASE, no longer."""

    def refuse_late(**_: Any) -> None:
        if time.monotonic() > deadline:
            raise PruneWindowClosed

    event = "before-send.s3.DeleteObjects"
    client.meta.events.register(event, refuse_late)
    try:
        yield
    finally:
        client.meta.events.unregister(event, refuse_late)


def _done(started: str) -> str:
    return started.removesuffix(STARTED) + DONE
