"""The pruning protocol's steps (herokuify_buildpack/bucket/pruning.py), one interleaving at a
time, against the real moto server. Listings are made to look old by the aging proxy
(herokuify_dev/aging.py); the end-to-end race is in tests/python/faults/test_pruning_race.py.

Release v1 used a.css and old.css; v2, v3 and v4 use a.css and new.css. With three releases
kept, v4's prune retires v1, so old.css is what a rollback to v1 relies on.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from herokuify_buildpack.bucket import pruning, releases
from herokuify_buildpack.bucket.listing import list_prefix
from herokuify_dev.aging import Aging
from herokuify_dev.proxy import running_proxy
from herokuify_dev.s3server import make_client

PREFIX = "static"
V1 = {"static/a.css": "tag", "static/old.css": "tag"}
LATER = {"static/a.css": "tag", "static/new.css": "tag"}
LISTED_WITHIN = timedelta(seconds=60)  # what a build passes: its age, and a minute


@pytest.fixture
def aged(s3_server, bucket):
    """A client whose listings show v1 to v3, and what existed before now, as two hours old."""
    writer = make_client(s3_server.endpoint_url)
    for key in {**V1, **LATER}:
        writer.put_object(Bucket=bucket, Key=key, Body=key.encode())
    for release in (V1, LATER | {"static/v2": "tag"}, LATER | {"static/v3": "tag"}):
        releases.record_release(writer, bucket, PREFIX, release)
    with running_proxy(s3_server.endpoint_url) as proxy:
        aging = Aging()
        proxy.rewrite_listing = aging.rewrite
        aging.age_existing(by=timedelta(hours=2))
        yield make_client(proxy.endpoint_url), aging


def listing(client, bucket):
    return list_prefix(client, bucket, PREFIX)


def rely(client, bucket, keys, seen, waits: list[str] | None = None):
    relisted = []

    def relist():
        relisted.append(True)
        return listing(client, bucket)

    planned, intent = pruning.rely_on_listing(
        client, bucket, PREFIX, keys, seen, LISTED_WITHIN, relist,
        on_wait=lambda: (waits or []).append("wait"),
    )  # fmt: skip
    return planned, intent, bool(relisted)


def prune(client, bucket, release=LATER):
    return pruning.prune(client, bucket, PREFIX, listing(client, bucket), release, 3)


def test_without_a_concurrent_build_v1_alone_goes(aged, bucket):
    client, _ = aged
    result = prune(client, bucket)
    assert (result.deleted, result.finished) == (2, True)  # old.css and v1's record
    held = listing(client, bucket)
    assert "static/old.css" not in held and "static/a.css" in held


def test_an_intent_written_before_the_prune_spares_its_keys(aged, bucket):
    client, _ = aged
    seen = listing(client, bucket)
    planned, intent, relisted = rely(client, bucket, V1, seen)
    assert planned is seen and not relisted  # no prune had begun: the listing stands

    prune(client, bucket)
    held = listing(client, bucket)
    assert "static/old.css" in held
    assert intent in held


def test_a_build_that_listed_before_a_whole_prune_lists_again(aged, bucket):
    client, _ = aged
    seen = listing(client, bucket)  # the build's listing, with old.css
    prune(client, bucket)  # begins and ends before the build writes its intent
    planned, _, relisted = rely(client, bucket, V1, seen)
    assert relisted
    assert "static/old.css" in seen and "static/old.css" not in planned  # so it is uploaded


def test_a_release_recorded_during_a_prune_is_kept(aged, bucket):
    """The rollback's record comes after the prune's first listing: v1 is then among the
    newest records, and its keys stay, though the prune had planned to delete them."""
    client, _ = aged
    first = listing(client, bucket)
    releases.record_release(client, bucket, PREFIX, V1)
    result = pruning.prune(client, bucket, PREFIX, first, LATER, 3)
    assert "static/old.css" in listing(client, bucket)
    assert result.deleted == 1  # v1's first record only


def test_a_prune_that_died_delays_builds_for_its_lease_only(s3_server, aged, bucket):
    """A started marker without .done: running for PRUNE_LEASE, then treated as ended (one
    more listing), and the next prune marks it done: builds whose listing is younger than that
    .done list only once."""
    client, aging = aged
    marker = f"{pruning.prunes_prefix(PREFIX)}20260101T000000000000Z-dead"
    make_client(s3_server.endpoint_url).put_object(
        Bucket=bucket, Key=marker + pruning.STARTED, Body=b""
    )
    aging.age_existing(by=pruning.PRUNE_LEASE + timedelta(seconds=5))
    waits: list[str] = []
    _, _, relisted = rely(client, bucket, V1, listing(client, bucket), waits)
    assert relisted and waits == []

    prune(client, bucket)
    assert marker + pruning.DONE in listing(client, bucket)
    _, _, relisted = rely(client, bucket, V1, listing(client, bucket))
    assert relisted  # that .done is younger than the listing may be: no telling which it shows
    aging.age_existing(by=2 * LISTED_WITHIN)
    _, _, relisted = rely(client, bucket, V1, listing(client, bucket))
    assert not relisted


def test_no_delete_is_sent_once_the_window_has_closed(aged, bucket, monkeypatch):
    client, _ = aged
    monkeypatch.setattr(pruning, "PRUNE_WINDOW", 0.0)
    result = prune(client, bucket)
    assert (result.deleted, result.finished) == (0, False)
    held = listing(client, bucket)
    assert "static/old.css" in held
    markers = [key for key in held if key.startswith(pruning.prunes_prefix(PREFIX))]
    assert sorted(key.rsplit(".", 1)[1] for key in markers) == ["done", "started"]
