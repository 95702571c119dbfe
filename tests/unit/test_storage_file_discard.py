"""``LocalDirStore.discard_ranges``: consumed shuffle slices are punched out of their
file -- disk blocks freed, size and every other byte kept -- and a file system that
cannot punch holes frees nothing without failing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage import RangeRequest
from storage.file import LocalDirStore, holes

MIB = 1 << 20


@pytest.fixture(params=["buffered", "direct"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> LocalDirStore:
    query = "?direct=true" if request.param == "direct" else ""
    return LocalDirStore.from_uri(f"file://{tmp_path}/store{query}")


def _allocated(store: LocalDirStore, key: str) -> int:
    path = store.root / key
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # allocate delayed blocks, so st_blocks counts them
    finally:
        os.close(fd)
    return path.stat().st_blocks * 512


def test_a_discarded_slice_frees_its_blocks_and_keeps_its_neighbours(store: LocalDirStore) -> None:
    data = os.urandom(6 * MIB + 777)
    store.put("job/shuffle.data", data)
    before = _allocated(store, "job/shuffle.data")
    # unaligned edges on both sides: only bytes inside the range may change
    lo, hi = MIB + 123, 5 * MIB + 4001
    freed = store.discard_ranges([RangeRequest("job/shuffle.data", lo, hi - lo)])
    assert freed == hi - lo
    after = _allocated(store, "job/shuffle.data")
    assert before - after >= hi - lo - 2 * 4096 - 8192  # whole blocks inside went
    assert store.size("job/shuffle.data") == len(data)
    assert store.get_range("job/shuffle.data", 0, lo) == data[:lo]
    assert store.get_range("job/shuffle.data", hi, len(data) - hi) == data[hi:]
    assert store.get_range("job/shuffle.data", lo, hi - lo) == bytes(hi - lo)


def test_many_ranges_of_many_keys_and_missing_keys(store: LocalDirStore) -> None:
    a, b = os.urandom(3 * MIB), os.urandom(2 * MIB)
    store.put("a", a)
    store.put("b", b)
    requests = [
        RangeRequest("a", 0, MIB),
        RangeRequest("gone", 0, MIB),  # already deleted (e.g. the job's cleanup ran): skipped
        RangeRequest("b", MIB, MIB),
        RangeRequest("a", 2 * MIB, MIB),
    ]
    assert store.discard_ranges(requests) == 3 * MIB
    assert store.get_range("a", MIB, MIB) == a[MIB : 2 * MIB]
    assert store.get("b")[:MIB] == b[:MIB]


def test_a_file_system_without_hole_punching_frees_nothing(
    store: LocalDirStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def refuse(fd: int, offset: int, length: int) -> bool:
        calls.append(offset)
        return False

    monkeypatch.setattr(holes, "punch_hole", refuse)
    data = os.urandom(2 * MIB)
    store.put("k", data)
    assert store.discard_ranges([RangeRequest("k", 0, MIB), RangeRequest("k", MIB, MIB)]) == 0
    assert store.discard_ranges([RangeRequest("k", 0, MIB)]) == 0
    assert calls == [0]  # refused once, never asked again
    assert store.get("k") == data


def test_a_real_error_is_not_taken_for_unsupported() -> None:
    with pytest.raises(OSError, match="Bad file descriptor"):
        holes.punch_hole(10_000, 0, 4096)
