"""Coalescing ranged reads: the pure planning half of ``S3Store.get_ranges``.

A reduce task reads one slice of every map output; when it reads several neighbouring
reduce partitions of the same object (coalesced partitions, skew splits, a broadcast read
in pieces), the slices are adjacent. One GET of the covering span costs one request
instead of many, and on S3 a request's latency (tens of ms) is worth megabytes of
transfer, so slices closer than ``gap`` bytes are merged, up to ``limit`` bytes a GET so
large spans still fetch in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.base import RangeRequest


@dataclass
class Span:
    """One GET of ``[start, end)`` of ``key`` serving ``members`` (request index, offset)."""

    key: str
    start: int
    end: int
    members: list[int] = field(default_factory=list)

    @property
    def length(self) -> int:
        return self.end - self.start


def plan(requests: Sequence[RangeRequest], gap: int, limit: int) -> list[Span]:
    """Group ``requests`` by key and merge near neighbours; every request is in one span."""
    by_key: dict[str, list[int]] = {}
    for i, r in enumerate(requests):
        if r.offset < 0 or r.length < 0:
            raise ValueError(f"bad range offset={r.offset} length={r.length} for {r.key!r}")
        by_key.setdefault(r.key, []).append(i)
    spans: list[Span] = []
    for key, idxs in by_key.items():
        idxs.sort(key=lambda i: (requests[i].offset, requests[i].length))
        cur: Span | None = None
        for i in idxs:
            r = requests[i]
            end = r.offset + r.length
            if (
                cur is not None
                and r.offset <= cur.end + gap
                and max(cur.end, end) - cur.start <= limit
            ):
                cur.end = max(cur.end, end)
                cur.members.append(i)
            else:
                cur = Span(key, r.offset, end, [i])
                spans.append(cur)
    return spans


def split(span: Span, data: bytes, requests: Sequence[RangeRequest]) -> list[tuple[int, bytes]]:
    """(request index, its bytes) for every member of ``span``, cut from the span's bytes."""
    view = memoryview(data)
    out = []
    for i in span.members:
        r = requests[i]
        lo = r.offset - span.start
        out.append(
            (i, data if (lo == 0 and r.length == len(data)) else bytes(view[lo : lo + r.length]))
        )
    return out
