"""The listing cut into ranges (cuts.py): each range one request, all at once, and every key found
however stale the cuts are. Listings run against the real moto server behind the counting proxy.
"""

from __future__ import annotations

import itertools
import json
import math

import pytest

from herokuify_buildpack.bucket.cuts import MAX_KEYS, NO_CUTS, ListingCuts
from herokuify_buildpack.bucket.listing import list_prefix
from herokuify_buildpack.cachedir import cache_file
from herokuify_dev.proxy import running_proxy
from herokuify_dev.s3server import make_client

LOCATION = "s3/bucket/static"


@pytest.fixture
def proxy(s3_server):
    with running_proxy(s3_server.endpoint_url) as proxy:
        yield proxy


def put(s3_client, bucket: str, keys: list[str]) -> None:
    for key in keys:
        s3_client.put_object(Bucket=bucket, Key=key, Body=key.encode())


@pytest.mark.parametrize("count", [1, 999, 1000, 1001, 2128, 20_127])
def test_cuts_make_as_few_ranges_as_hold_a_thousand_keys(count):
    keys = [f"static/{n:06d}" for n in range(count)]
    cuts = ListingCuts.of(reversed(keys))
    ranges = math.ceil(count / MAX_KEYS)
    assert len(cuts.keys) == ranges - 1
    bounds = [-1, *(keys.index(key) for key in cuts.keys), count - 1]
    sizes = [after - before for before, after in itertools.pairwise(bounds)]
    assert max(sizes) == cuts.range_size <= MAX_KEYS
    assert max(sizes) - min(sizes) <= 1


def test_cuts_survive_the_cache_and_damage_reads_as_none(tmp_path):
    cuts = ListingCuts.of(f"static/{n}" for n in range(2500))
    cuts.save(tmp_path, LOCATION)
    assert ListingCuts.load(tmp_path, LOCATION) == cuts
    assert ListingCuts.load(tmp_path, "s3/other-bucket/static") == NO_CUTS

    path = cache_file(tmp_path, "listing-cuts", LOCATION)
    for damaged in (
        "{not json",
        json.dumps({"keys": ["static/b", "static/a"], "range_size": 10}),  # not sorted
        json.dumps({"keys": ["static/a", "static/a"], "range_size": 10}),  # repeated
        json.dumps({"keys": ["static/a"], "range_size": 5000}),
        json.dumps({"keys": [1, 2], "range_size": 10}),
        json.dumps({"keys": "static/a"}),
    ):
        path.write_text(damaged)
        assert ListingCuts.load(tmp_path, LOCATION) == NO_CUTS, damaged


def test_each_range_is_one_request_when_the_bucket_is_as_cut(bucket, s3_client, proxy):
    keys = [f"static/files/{n:03d}.txt" for n in range(45)]
    put(s3_client, bucket, [*keys, "staticfiles/outside.txt", "media/outside.txt"])
    cuts = ListingCuts.of(keys, per_range=10)
    assert len(cuts.keys) == 4

    listed = list_prefix(make_client(proxy.endpoint_url), bucket, "static", cuts)
    assert sorted(listed) == keys
    assert proxy.counts()["LIST"] == 5
    assert listed == list_prefix(s3_client, bucket, "static")


def test_stale_cuts_still_find_every_key(bucket, s3_client, proxy):
    """A range that grew past its page takes more requests; cut keys that are gone, keys before
    the first cut and after the last, and an empty range change nothing."""
    keys = [f"static/files/{n:03d}.txt" for n in range(45)]
    put(s3_client, bucket, keys)
    cuts = ListingCuts.of(keys, per_range=10)
    grown = [f"{cuts.keys[1]}-{n:03d}" for n in range(cuts.range_size + 40)]
    edges = ["static/a-before-everything.txt", "static/zz-after-everything.txt"]
    put(s3_client, bucket, [*grown, *edges])
    for gone in (cuts.keys[0], *keys[keys.index(cuts.keys[2]) + 1 : keys.index(cuts.keys[3]) + 1]):
        s3_client.delete_object(Bucket=bucket, Key=gone)

    listed = list_prefix(make_client(proxy.endpoint_url), bucket, "static", cuts)
    assert listed == list_prefix(s3_client, bucket, "static", NO_CUTS)
    assert set(grown) | set(edges) <= set(listed)
    assert cuts.keys[0] not in listed
    assert proxy.counts()["LIST"] > 5  # the grown range needed another request


def test_made_up_cuts_cost_at_most_one_wave_more_than_a_plain_listing(bucket, s3_client, proxy):
    """3,000 cuts of a thousand keys each, over a bucket that holds 45: the first wave finds
    next to nothing, and the rest of the prefix is listed plainly."""
    keys = [f"static/files/{n:03d}.txt" for n in range(45)]
    put(s3_client, bucket, keys)
    made_up = ListingCuts(tuple(f"static/cut-{n:05d}" for n in range(3000)), MAX_KEYS)

    listed = list_prefix(make_client(proxy.endpoint_url), bucket, "static", made_up, 8)
    assert sorted(listed) == keys
    assert proxy.counts()["LIST"] <= 8 + 1
