"""Where to cut the next build's listing of static/, so that its requests go out at once.

A listing request returns at most 1,000 keys and says where the next one starts, so a plain
listing waits for each answer before it asks again: 21 round trips at 20,000 keys. The keys of
the last listing cut the key space into ranges of at most 1,000 keys each; each range starts at
a key it already knows, so all its requests go out together, and the listing takes about one
round trip. The cuts are kept in CACHE_DIR. A stale cut costs time, never a key: a range that
grew since is fetched to its end with further requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from herokuify_buildpack.cachedir import Unreadable, cache_file, read_json, write_atomically

MAX_KEYS = 1000  # the most keys one listing request returns


@dataclass(frozen=True)
class ListingCuts:
    # Sorted keys: range i holds the keys after keys[i - 1] up to keys[i], both ends open at
    # the first and last range.
    keys: tuple[str, ...] = ()
    range_size: int = MAX_KEYS  # the most keys any range held when cut

    @classmethod
    def of(cls, keys: Iterable[str], per_range: int = MAX_KEYS) -> ListingCuts:
        """Cuts making ranges of near-equal size, as few as hold ``per_range`` keys each."""
        ordered = sorted(set(keys))
        ranges = max(1, -(-len(ordered) // per_range))
        cut_at = tuple(ordered[len(ordered) * index // ranges - 1] for index in range(1, ranges))
        return cls(cut_at, max(1, -(-len(ordered) // ranges)))

    @classmethod
    def load(cls, cache_dir: Path, cache_key: str) -> ListingCuts:
        return cls.read(cache_dir, cache_key)[0]

    @classmethod
    def read(cls, cache_dir: Path, cache_key: str) -> tuple[ListingCuts, str | None]:
        """The cuts, and why the file was ignored if it was: a missing or damaged file lists in
        one range, as a first deploy does."""
        try:
            data = read_json(cache_file(cache_dir, "listing-cuts", cache_key))
        except Unreadable as exc:
            return cls(), str(exc)
        if data is None:
            return cls(), None
        keys = data.get("keys") if isinstance(data, dict) else None
        range_size = data.get("range_size") if isinstance(data, dict) else None
        well_formed = (
            isinstance(keys, list)
            and all(isinstance(key, str) for key in keys)
            and keys == sorted(set(keys))
            and isinstance(range_size, int)
            and 0 < range_size <= MAX_KEYS
        )
        if not well_formed:
            return cls(), "its content is not a listing's cuts"
        return cls(tuple(keys), range_size), None

    def save(self, cache_dir: Path, cache_key: str) -> None:
        """OSError if it cannot be written."""
        path = cache_file(cache_dir, "listing-cuts", cache_key)
        if ListingCuts.load(cache_dir, cache_key) != self:
            write_atomically(path, json.dumps({"keys": self.keys, "range_size": self.range_size}))


NO_CUTS = ListingCuts()  # one range: a plain listing
