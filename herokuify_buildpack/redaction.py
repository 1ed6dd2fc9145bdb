"""What counts as a secret in the build's output, and masking it, in text or in a byte stream.

A secret config var value may be printed in another form than it is set in: escaped by ``repr``
or JSON, URL-encoded or URL-decoded, the password alone out of a URL, or one line of a value of
several lines (a PEM key, indented or prefixed line by line). Each such form is a *variant*,
masked wherever it appears, as bytes, so that output in any encoding is covered.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote, quote_plus, unquote, unquote_to_bytes, urlsplit

MASK = "[hidden]"
MIN_SECRET_LENGTH = 6  # values this short would mask innocent text; no real secret is this short
_MASK_BYTES = MASK.encode()
_SHORT_TAIL = 8  # held ends shorter than this are looked up one by one


def variants(value: str) -> set[bytes]:
    """Every form of ``value`` worth masking, none shorter than MIN_SECRET_LENGTH."""
    parts = [value, *_url_passwords(value), *_json_strings(value)]
    parts += [line.strip() for part in parts if "\n" in part.strip() for line in part.splitlines()]
    found: set[bytes] = set()
    for part in parts:
        found |= _forms(part)
    return {form for form in found if len(form) >= MIN_SECRET_LENGTH}


def _encoded(text: str) -> bytes:
    # Config vars are read as bytes and decoded with surrogateescape; this is the way back.
    return text.encode("utf-8", "surrogateescape")


def _forms(value: str) -> set[bytes]:
    forms: set[bytes] = set()
    for text in {value, value.strip()}:
        raw = _encoded(text)
        forms |= {
            raw,
            _encoded(repr(text)[1:-1]),
            repr(raw)[2:-1].encode(),
            json.dumps(text)[1:-1].encode(),
            _encoded(json.dumps(text, ensure_ascii=False)[1:-1]),
            quote(raw, safe="").encode(),
            quote(raw).encode(),
            quote_plus(raw).encode(),
            unquote_to_bytes(raw),
            unquote_to_bytes(raw.replace(b"+", b" ")),
        }
    return forms


def _json_strings(value: str) -> list[str]:
    """The strings inside a JSON value (a service account's credentials, say): an app prints
    its fields once parsed, a private key with real newlines, never in the var's own form."""
    if not value.lstrip().startswith(("{", "[")):
        return []
    try:
        pending = [json.loads(value)]
    except ValueError:
        return []
    strings = []
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
    return strings


def _url_passwords(value: str) -> list[str]:
    """A password inside a URL (DATABASE_URL and the like), as written and decoded: either may
    be printed on its own."""
    try:
        password = urlsplit(value.strip()).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


class _Matcher:
    """Finds the variants in bytes: a regex made from their trie, so that each position costs
    about one step whatever their number, and a sorted list for the prefixes a chunk ends in."""

    def __init__(self, found: Iterable[bytes]) -> None:
        self.sorted = sorted(found)
        self.longest = max(map(len, self.sorted), default=0)
        # A held end of _SHORT_TAIL bytes or more starts with one of these: found at C speed.
        heads = sorted({variant[:_SHORT_TAIL] for variant in self.sorted})
        self.heads = re.compile(_trie_regex(heads)) if heads else None
        self.pattern = re.compile(_trie_regex(self.sorted)) if self.sorted else None

    def spans(self, data: bytes) -> list[list[int]]:
        """Where any variant occurs in ``data``, overlapping occurrences merged into one span."""
        spans: list[list[int]] = []
        if self.pattern is None:
            return spans
        for match in _matches(self.pattern, data, 0):
            start, end = match.span()
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([start, end])
        return spans

    def pending_from(self, data: bytes) -> int:
        """Where the longest end of ``data`` that may still grow into a variant starts
        (``len(data)`` if none may): that end is held back until more data shows what it is."""
        size = len(data)
        if self.heads is None:
            return size
        window = max(0, size - self.longest + 1)
        long_end = size - _SHORT_TAIL + 1  # where ends shorter than _SHORT_TAIL begin
        starts = [m.start() for m in _matches(self.heads, data, window) if m.start() < long_end]
        starts += range(max(window, long_end, 0), size)
        for start in starts:
            tail = data[start:]
            index = bisect.bisect_left(self.sorted, tail)
            # Variants that start with ``tail`` follow it in order; one must be longer than it.
            for variant in self.sorted[index : index + 2]:
                if len(variant) > len(tail) and variant.startswith(tail):
                    return start
        return size


def _matches(pattern: re.Pattern[bytes], data: bytes, position: int) -> Iterator[re.Match[bytes]]:
    """Each match from ``position`` on, one per start, overlapping ones too: a variant may
    begin inside another."""
    while (match := pattern.search(data, position)) is not None:
        yield match
        position = match.start() + 1


def _trie_regex(found: list[bytes]) -> bytes:
    """A regex that matches the longest of ``found`` (sorted, unique) at a position: the
    variants' trie, each run without a branch written as one literal."""
    ends_here = found[0] == b""
    alternatives = []
    for _, group in itertools.groupby(found[1:] if ends_here else found, key=lambda v: v[0]):
        branch = list(group)
        shared = branch[0][: _shared_length(branch[0], branch[-1])]  # sorted: first and last
        rests = [variant[len(shared) :] for variant in branch]
        alternatives.append(re.escape(shared) + (_trie_regex(rests) if rests != [b""] else b""))
    if not alternatives:
        return b""
    body = alternatives[0] if len(alternatives) == 1 else b"(?:" + b"|".join(alternatives) + b")"
    # Greedy: where one variant ends and a longer one goes on, the longer one is tried first.
    return b"(?:" + body + b")?" if ends_here else body


def _shared_length(first: bytes, last: bytes) -> int:
    low, high = 0, min(len(first), len(last))
    while low < high:
        middle = (low + high + 1) // 2
        if first[:middle] == last[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


class Redactor:
    """The secrets of this build, masked in text and in bytes; one for the whole process."""

    def __init__(self) -> None:
        self._variants: set[bytes] = set()
        self.matcher = _Matcher(())

    def add(self, values: Iterable[str]) -> None:
        for value in values:
            self._variants |= variants(value)
        self.matcher = _Matcher(self._variants)

    def mask(self, data: bytes) -> bytes:
        return _render(data, self.matcher.spans(data), len(data), continuing=False)[0]

    def __call__(self, text: str) -> str:
        return self.mask(_encoded(text)).decode("utf-8", "surrogateescape")

    def stream(self) -> StreamMasker:
        return StreamMasker(self)


class StreamMasker:
    """Masks a byte stream that arrives in chunks cut anywhere, even inside a secret: each chunk's
    end that may be the start of a variant is held back until the next chunk or the end."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._held = b""
        # How many of the held bytes belong to a secret whose mask has already been written.
        self._masked_head = 0

    def feed(self, chunk: bytes) -> bytes:
        data = self._held + chunk
        matcher = self._redactor.matcher
        return self._emit(data, matcher.spans(data), matcher.pending_from(data))

    def close(self) -> bytes:
        """The rest, at the end of the stream: what was held is no full secret, or is masked."""
        data, self._held = self._held, b""
        return self._emit(data, self._redactor.matcher.spans(data), len(data))

    def _emit(self, data: bytes, spans: list[list[int]], cut: int) -> bytes:
        if self._masked_head:
            spans = _merged([[0, self._masked_head], *spans])
        out, self._masked_head = _render(data, spans, cut, continuing=self._masked_head > 0)
        self._held = data[cut:]
        return out


def _merged(spans: list[list[int]]) -> list[list[int]]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _render(data: bytes, spans: list[list[int]], cut: int, continuing: bool) -> tuple[bytes, int]:
    """``data[:cut]`` with each span masked, and how far past ``cut`` a span goes on. With
    ``continuing``, a span at 0 goes on from a mask already written, and gets no second one."""
    parts = []
    position = 0
    masked_past_cut = 0
    for start, end in spans:
        if start >= cut:
            if start == 0 and continuing:
                masked_past_cut = end  # held whole again: still the rest of a written mask
            break
        parts.append(data[position:start])
        if not (start == 0 and continuing):
            parts.append(_MASK_BYTES)
        position = min(end, cut)
        masked_past_cut = max(0, end - cut)
    parts.append(data[position:cut])
    return b"".join(parts), masked_past_cut
