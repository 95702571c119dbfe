"""``file://...?direct=true``: O_DIRECT writes and reads give the same bytes as buffered
I/O at every alignment, fall back where the file system refuses O_DIRECT, and really
bypass the page cache where it does not."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from storage import BlockNotFound, RangeRequest, StoreError
from storage.file import LocalDirStore, direct, parse_uri

SIZES = [0, 1, 4095, 4096, 4097, direct.WRITE_BUFFER - 1, direct.WRITE_BUFFER + 4099]


def _payload(n: int) -> bytes:
    return (bytes(range(251)) * (n // 251 + 1))[:n]


@pytest.fixture
def store(tmp_path: Path) -> LocalDirStore:
    s = LocalDirStore.from_uri(f"file://{tmp_path}/store?direct=true")
    assert s._direct, f"{tmp_path} refuses O_DIRECT; run the tests on a disk file system"
    return s


def test_uri_option() -> None:
    assert not parse_uri("file:///tmp/x").direct
    assert parse_uri("file:///tmp/x?direct=true").direct
    assert parse_uri("file:///tmp/x?direct=1&fsync=1").fsync
    with pytest.raises(ValueError, match="direct must be true or false"):
        parse_uri("file:///tmp/x?direct=sometimes")


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_every_alignment(store: LocalDirStore, size: int) -> None:
    data = _payload(size)
    store.put("one", data)
    # put_stream with odd chunk sizes, so chunks straddle the write buffer's edge
    chunks = [data[i : i + 1_000_003] for i in range(0, size, 1_000_003)]
    store.put_stream("many", chunks)
    for key in ("one", "many"):
        assert store.get(key) == data
        assert store.size(key) == size == (store.root / key).stat().st_size


def test_ranges_match_buffered(store: LocalDirStore, tmp_path: Path) -> None:
    data = _payload(3 * 4096 + 17)
    store.put("k", data)
    buffered = LocalDirStore.from_uri(f"file://{store.root}")
    spans = [(0, 0), (0, 1), (4095, 2), (4096, 4096), (5, 3 * 4096), (len(data) - 1, 1)]
    for offset, length in spans:
        assert store.get_range("k", offset, length) == data[offset : offset + length]
        assert buffered.get_range("k", offset, length) == data[offset : offset + length]
    reqs = [RangeRequest("k", o, n) for o, n in spans]
    assert store.get_ranges(reqs) == [data[o : o + n] for o, n in spans]
    with pytest.raises(StoreError, match="short read"):
        store.get_range("k", len(data) - 3, 10)


def test_reads_larger_than_a_pooled_buffer(store: LocalDirStore, monkeypatch) -> None:
    data = _payload(5 * 4096 + 1)
    store.put("big", data)
    monkeypatch.setattr(direct, "MAX_POOLED_READ", 2 * 4096)  # force the page-cache path
    assert store.get("big") == data
    assert store.get_range("big", 4000, 3 * 4096) == data[4000 : 4000 + 3 * 4096]


def test_missing_and_directory_keys(store: LocalDirStore) -> None:
    store.put("dir/leaf", b"x")
    for key in ("nope", "dir"):
        with pytest.raises(BlockNotFound):
            store.get(key)
        with pytest.raises(BlockNotFound):
            store.get_range(key, 0, 1)
    assert store._direct, "a directory key must not switch direct I/O off"


def test_opens_with_o_direct(store: LocalDirStore, monkeypatch) -> None:
    flags: list[int] = []
    real_open = os.open

    def spy(path, f, *args, **kwargs):
        flags.append(f)
        return real_open(path, f, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    store.put("k", b"abc")
    assert store.get("k") == b"abc"
    assert sum(bool(f & os.O_DIRECT) for f in flags) == 2  # the write and the read


def test_file_system_refusing_o_direct_falls_back(tmp_path: Path, monkeypatch) -> None:
    """As on tmpfs before Linux 6.6: open(O_DIRECT) fails with EINVAL."""
    real_open = os.open

    def refusing(path, f, *args, **kwargs):
        if f & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument", str(path))
        return real_open(path, f, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)
    s = LocalDirStore.from_uri(f"file://{tmp_path}/refusing?direct=true")
    data = _payload(4097)
    s.put("k", data)
    assert s.get("k") == data and s.get_range("k", 1, 4096) == data[1:]
    assert not s._direct  # refused once, buffered from then on


def test_concurrent_reads_and_writes_share_the_buffer_pool(store: LocalDirStore) -> None:
    """The buffers are pooled per process: threads must never see each other's bytes."""
    from concurrent.futures import ThreadPoolExecutor

    blobs = {f"k{i}": _payload(4096 * (i + 1) + i)[::-1] for i in range(8)}

    def write_then_read(key: str) -> bool:
        store.put(key, blobs[key])
        data = blobs[key]
        return all(
            store.get_range(key, o, 5000) == data[o : o + 5000] for o in range(0, len(data) - 5000, 997)
        ) and store.get(key) == data

    for _ in range(3):
        with ThreadPoolExecutor(max_workers=4) as pool:  # new threads each time, as the reader
            assert all(pool.map(write_then_read, blobs))
    assert len(direct._pool._free) <= 4
