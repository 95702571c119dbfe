"""LocalDirStore and open_store: pure in-process tests."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from storage import STORES, BlockNotFound, RangeRequest, StoreError, close_stores, open_store
from storage.file import LocalDirStore, parse_uri
from storage.file.store import TMP_PREFIX


@pytest.fixture
def store(tmp_path: Path) -> LocalDirStore:
    return LocalDirStore.from_uri(f"file://{tmp_path}/store")


def files_under(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_round_trip_and_overwrite(store: LocalDirStore) -> None:
    store.put("j1/stage-0/a", b"hello")
    assert store.get("j1/stage-0/a") == b"hello"
    store.put("j1/stage-0/a", bytearray(b"bye"))
    assert store.get("j1/stage-0/a") == b"bye"
    store.put("empty", memoryview(b""))
    assert store.get("empty") == b"" and store.size("empty") == 0


def test_ranged_reads(store: LocalDirStore) -> None:
    data = bytes(range(256)) * 4
    store.put("k", data)
    assert store.get_range("k", 10, 20) == data[10:30]
    assert store.get_range("k", 0, 0) == b""
    assert store.get_range("k", 1000, 24) == data[1000:]
    reqs = [RangeRequest("k", 5, 3), RangeRequest("k", 0, 2)]
    assert store.get_ranges(reqs) == [data[5:8], data[0:2]]
    with pytest.raises(StoreError, match="short read"):
        store.get_range("k", 1020, 10)
    with pytest.raises(ValueError):
        store.get_range("k", -1, 2)


def test_size_exists_missing(store: LocalDirStore) -> None:
    store.put("a/b/c", b"xyz")
    assert store.size("a/b/c") == 3
    assert store.exists("a/b/c")
    assert not store.exists("a/b")  # a directory is not a key
    assert not store.exists("nope")
    for call in (
        lambda: store.get("nope"),
        lambda: store.get("a/b"),
        lambda: store.get_range("nope", 0, 1),
        lambda: store.size("a/b"),
        lambda: store.get("a/b/c/d"),
    ):
        with pytest.raises(BlockNotFound) as info:
            call()
        assert info.value.store == store.uri and info.value.key


def test_missing_key_error_names_store_and_key(store: LocalDirStore) -> None:
    with pytest.raises(BlockNotFound) as info:
        store.get("j/missing")
    assert info.value.key == "j/missing"
    assert info.value.store == store.uri
    assert "j/missing" in str(info.value)


@pytest.mark.parametrize(
    "key", ["", "/abs", "../up", "a/../b", "a//b", "a/./b", "a/", "x\\y", f"a/{TMP_PREFIX}z"]
)
def test_bad_keys_rejected(store: LocalDirStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put(key, b"x")


def test_list_and_delete_prefix(store: LocalDirStore) -> None:
    keys = ["j1/s0/m0", "j1/s0/m1", "j1/s1/m0", "j10/s0/m0", "j2/x"]
    for k in keys:
        store.put(k, k.encode())
    assert list(store.list_prefix("")) == sorted(keys)
    assert list(store.list_prefix("j1/")) == ["j1/s0/m0", "j1/s0/m1", "j1/s1/m0"]
    assert list(store.list_prefix("j1")) == ["j1/s0/m0", "j1/s0/m1", "j1/s1/m0", "j10/s0/m0"]
    assert list(store.list_prefix("j1/s0/m")) == ["j1/s0/m0", "j1/s0/m1"]
    assert list(store.list_prefix("nothing/")) == []
    assert store.delete_prefix("j1/") == 3
    assert list(store.list_prefix("")) == ["j10/s0/m0", "j2/x"]
    assert not (store.root / "j1").exists()  # empty directories are pruned
    assert store.delete_prefix("j1/") == 0
    with pytest.raises(ValueError):
        store.delete_prefix("../")
    store.put("j1/again", b"1")  # the pruned directory is recreated on demand
    assert store.get("j1/again") == b"1"


def test_delete_prefix_removes_stale_temp_files(store: LocalDirStore) -> None:
    store.put("j/a", b"1")
    (store.root / "j" / f"{TMP_PREFIX}a.crashed").write_bytes(b"partial")
    assert list(store.list_prefix("j/")) == ["j/a"]  # temp files are never keys
    assert store.delete_prefix("j/") == 1
    assert files_under(store.root) == []


def test_put_leaves_no_temp_files_even_on_failure(store: LocalDirStore) -> None:
    for i in range(20):
        store.put(f"d/k{i % 3}", os.urandom(1000))
    assert all(not n.startswith(TMP_PREFIX) for n in files_under(store.root))

    class Boom:
        def __buffer__(self, flags: int) -> memoryview:
            raise RuntimeError("writer died")

    with pytest.raises((RuntimeError, TypeError)):
        store.put("d/k0", Boom())  # type: ignore[arg-type]
    assert all(not n.startswith(TMP_PREFIX) for n in files_under(store.root))


def test_concurrent_readers_see_old_or_new_never_partial(store: LocalDirStore) -> None:
    size = 1 << 20
    old, new = b"a" * size, b"b" * size
    store.put("hot", old)
    stop = threading.Event()
    seen: set[bytes] = set()
    errors: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            value = store.get("hot")
            if len(value) != size or value.count(value[:1]) != size:
                errors.append(f"partial value of {len(value)} bytes")
            seen.add(value[:1])

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(60):
        store.put("hot", new if i % 2 == 0 else old)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert seen <= {b"a", b"b"}
    assert files_under(store.root) == ["hot"]


def test_metrics(store: LocalDirStore) -> None:
    store.put("m", b"12345")
    store.get("m")
    store.get_range("m", 1, 2)
    with pytest.raises(BlockNotFound):
        store.get("missing")
    m = store.metrics
    assert m.requests == 4
    assert m.bytes_written == 5 and m.bytes_read == 7
    assert m.seconds > 0
    assert m.by_op == {"put": 1, "get": 2, "get_range": 1}
    assert set(m.as_dict()) == {"requests", "bytes_written", "bytes_read", "seconds"}


def test_parse_uri(tmp_path: Path) -> None:
    assert parse_uri("file:///tmp/x").root == Path("/tmp/x")
    assert parse_uri("file://localhost/tmp/x/").root == Path("/tmp/x")
    assert parse_uri("/tmp/x").root == Path("/tmp/x")
    assert parse_uri("file:///tmp/a%20b").root == Path("/tmp/a b")
    assert parse_uri("file:///tmp/x?fsync=true").fsync
    assert not parse_uri("file:///tmp/x?fsync=0").fsync
    for bad in (
        "file://host/tmp",
        "file://rel/../x",
        "s3://b/k",
        "file:///x?fsync=maybe",
        "file:///x?colour=red",
    ):
        with pytest.raises(ValueError):
            parse_uri(bad)
    fsynced = LocalDirStore.from_uri(f"file://{tmp_path}/f?fsync=1")
    fsynced.put("k", b"durable")
    assert fsynced.get("k") == b"durable"


def test_open_store_caches_per_uri(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}/s"
    a = open_store(uri)
    assert isinstance(a, LocalDirStore)
    assert open_store(uri) is a
    assert open_store(str(tmp_path / "s")).root == a.root  # bare absolute path
    assert open_store(f"file://{tmp_path}/other") is not a
    close_stores()
    assert open_store(uri) is not a


@pytest.mark.parametrize("uri", ["gopher://x/y", "relative/path", "ftp:///x"])
def test_open_store_unknown_scheme(uri: str) -> None:
    with pytest.raises(ValueError) as info:
        open_store(uri)
    assert "file" in str(info.value)
    assert "file" in STORES


def test_put_stream_and_get_stream_bounded_chunks(tmp_path) -> None:
    store = open_store(f"file://{tmp_path}/stream")
    chunks = [bytes([i]) * 1000 for i in range(50)]
    store.put_stream("a/b", iter(chunks))
    got = list(store.get_stream("a/b", chunk_size=4096))
    assert all(len(c) <= 4096 for c in got)
    assert b"".join(got) == b"".join(chunks)


def test_put_stream_failure_leaves_no_key_and_no_temp(tmp_path) -> None:
    store = open_store(f"file://{tmp_path}/stream2")

    def chunks():
        yield b"x" * 100
        raise RuntimeError("producer died")

    with pytest.raises(RuntimeError):
        store.put_stream("k", chunks())
    assert not store.exists("k")
    assert list(store.list_prefix("")) == []
    assert not [p for p in (tmp_path / "stream2").rglob("*") if p.is_file()]
