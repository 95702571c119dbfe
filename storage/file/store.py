"""``LocalDirStore``: a BlockStore over one directory of the local file system.

Each key is a file under the root. ``put`` writes a hidden temp file in the key's own
directory and ``os.replace``s it into place, so a reader (another process included)
sees the old value, the new value, or no key — never a partial one.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.base import BlockNotFound, BlockStore, RangeRequest, StoreError
from storage.file import direct, holes
from storage.file.config import LocalDirConfig, parse_uri

TMP_PREFIX = ".tmp-"


def _check_key(key: str, *, prefix: bool = False) -> None:
    """Keys are relative ``/``-separated paths that cannot escape the root."""
    what = "prefix" if prefix else "key"
    if not isinstance(key, str):
        raise ValueError(f"{what} must be a str, got {type(key).__name__}")
    if not key and prefix:
        return
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise ValueError(f"invalid {what} {key!r}: must be a non-empty relative '/'-path")
    parts = key.split("/")
    if prefix:
        parts = parts[:-1] if parts[-1] == "" else parts
    for part in parts:
        if part in ("", ".", "..") or part.startswith(TMP_PREFIX):
            raise ValueError(f"invalid {what} {key!r}: bad path component {part!r}")


def _pread_all(fd: int, offset: int, length: int) -> bytes:
    """``length`` bytes at ``offset`` of a buffered descriptor; fewer only at the end."""
    parts = []
    while length > 0:
        part = os.pread(fd, min(length, 1 << 30), offset)
        if not part:
            break
        parts.append(part)
        offset += len(part)
        length -= len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


class LocalDirStore(BlockStore):
    """Keys are files below ``config.root``; the directory is created if missing."""

    def __init__(self, config: LocalDirConfig) -> None:
        super().__init__()
        self.config = config
        self.root = config.root
        self.uri = "file://" + str(self.root)
        self._lock = threading.Lock()
        self.root.mkdir(parents=True, exist_ok=True)
        # Direct I/O until the file system refuses it once (see storage.file.direct).
        self._direct = config.direct and direct.supported()
        self._punch = holes.supported()  # until the file system refuses once

    @classmethod
    def from_uri(cls, uri: str) -> LocalDirStore:
        return cls(parse_uri(uri))

    def __repr__(self) -> str:
        return f"LocalDirStore({self.uri!r})"

    # -- helpers ---------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        _check_key(key)
        return self.root / key

    @contextmanager
    def _timed(self, op: str) -> Iterator[list[int]]:
        """Count one request; the body appends [bytes_read, bytes_written]."""
        io = [0, 0]
        start = time.perf_counter()
        try:
            yield io
        finally:
            elapsed = time.perf_counter() - start
            m = self.metrics
            with self._lock:
                m.requests += 1
                m.seconds += elapsed
                m.bytes_read += io[0]
                m.bytes_written += io[1]
                m.by_op[op] = m.by_op.get(op, 0) + 1

    def _missing(self, key: str) -> BlockNotFound:
        return BlockNotFound(f"no such key {key!r} in {self.uri}", store=self.uri, key=key)

    # -- BlockStore ------------------------------------------------------------------

    def put(self, key: str, data: bytes | bytearray | memoryview) -> None:
        path = self._path(key)
        with self._timed("put") as io:
            for retry in (True, False):
                try:
                    self._write_atomic(path, data)
                    break
                except FileNotFoundError:
                    # A concurrent delete_prefix pruned the directory; recreate it once.
                    if not retry:
                        raise
            io[1] = memoryview(data).nbytes

    def put_stream(self, key: str, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        """Chunks go straight to a temp file, renamed into place at the end: bounded memory."""
        path = self._path(key)
        with self._timed("put") as io:
            self._write_atomic(path, chunks)
            io[1] = path.stat().st_size

    def _write_atomic(
        self, path: Path, data: bytes | bytearray | memoryview | Iterable[bytes | bytearray | memoryview]
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX + path.name + ".")
        chunks = (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data
        try:
            direct_fd = self._open_direct(tmp, os.O_WRONLY)
            if direct_fd is not None:
                os.close(fd)
                fd = direct_fd
                direct.write_all(fd, chunks)
            else:
                with open(fd, "wb", closefd=False) as f:  # coalesces small chunks
                    for chunk in chunks:
                        f.write(chunk)
            if self.config.fsync:
                os.fsync(fd)
            os.close(fd)
            fd = -1
            os.replace(tmp, path)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def _open_direct(self, path: str | Path, flags: int) -> int | None:
        """An ``O_DIRECT`` descriptor, or ``None``: direct I/O is off or refused here."""
        if not self._direct:
            return None
        fd = direct.open_direct(path, flags)
        if fd is None:
            self._direct = False  # e.g. tmpfs: buffered from now on
        return fd

    def _read(self, key: str, offset: int, length: int | None) -> bytes:
        """``length`` bytes at ``offset`` (to the end when ``None``; fewer at the end)."""
        path = self._path(key)
        try:
            fd = self._open_direct(path, os.O_RDONLY)
            is_direct = fd is not None
            if fd is None:
                fd = os.open(path, os.O_RDONLY)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise self._missing(key) from None
        try:
            if length is None:
                length = max(os.fstat(fd).st_size - offset, 0)
            data = direct.read_range(fd, offset, length) if is_direct else None
            if data is None:  # buffered, or too large for a pooled buffer: page cache
                if is_direct:
                    os.close(fd)
                    fd = -1
                    fd = os.open(path, os.O_RDONLY)
                data = _pread_all(fd, offset, length)
            return data
        except (FileNotFoundError, IsADirectoryError):
            raise self._missing(key) from None
        finally:
            if fd >= 0:
                os.close(fd)

    def get(self, key: str) -> bytes:
        with self._timed("get") as io:
            data = self._read(key, 0, None)
            io[0] = len(data)
        return data

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError(f"bad range offset={offset} length={length} for {key!r}")
        with self._timed("get_range") as io:
            data = self._read(key, offset, length)
            io[0] = len(data)
        if len(data) != length:
            raise StoreError(
                f"short read of {key!r} in {self.uri}: wanted {length} bytes at {offset}, "
                f"got {len(data)}",
                store=self.uri,
                key=key,
            )
        return data

    def size(self, key: str) -> int:
        path = self._path(key)
        with self._timed("size"):
            try:
                st = path.stat()
            except (FileNotFoundError, NotADirectoryError):
                raise self._missing(key) from None
        if not path.is_file():
            raise self._missing(key)
        return st.st_size

    def exists(self, key: str) -> bool:
        path = self._path(key)
        with self._timed("exists"):
            return path.is_file()

    def discard_ranges(self, requests: Iterable[RangeRequest]) -> int:
        """Punch the ranges out of their files (``storage.file.holes``); keys that are
        gone are skipped, and a file system without hole punching frees nothing."""
        by_key: dict[str, list[RangeRequest]] = {}
        for r in requests:
            by_key.setdefault(r.key, []).append(r)
        freed = 0
        for key, ranges in by_key.items():
            if not self._punch:
                break
            try:
                fd = os.open(self._path(key), os.O_WRONLY)
            except (FileNotFoundError, IsADirectoryError):
                continue
            try:
                for r in ranges:
                    if not holes.punch_hole(fd, r.offset, r.length):
                        self._punch = False
                        break
                    freed += r.length
            finally:
                os.close(fd)
        return freed

    def list_prefix(self, prefix: str) -> Iterator[str]:
        """Keys starting with ``prefix`` (a plain string prefix, as in S3), sorted."""
        _check_key(prefix, prefix=True)
        with self._timed("list_prefix"):
            keys = sorted(k for k, is_tmp in self._scan(prefix) if not is_tmp)
        return iter(keys)

    def delete_prefix(self, prefix: str) -> int:
        """Delete keys under ``prefix`` (and stale temp files of crashed writers)."""
        _check_key(prefix, prefix=True)
        deleted = 0
        with self._timed("delete_prefix"):
            dirs: set[Path] = set()
            for key, is_tmp in self._scan(prefix):
                path = self.root / key
                try:
                    path.unlink()
                except FileNotFoundError:
                    continue
                deleted += not is_tmp
                dirs.add(path.parent)
            self._prune(dirs)
        return deleted

    def _scan(self, prefix: str) -> Iterator[tuple[str, bool]]:
        """(key, is_temp_file) for every file whose key starts with ``prefix``."""
        head, _, name_prefix = prefix.rpartition("/")
        base = self.root / head if head else self.root
        try:
            entries = list(os.scandir(base))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if not entry.name.startswith(name_prefix):
                continue
            rel = f"{head}/{entry.name}" if head else entry.name
            if entry.is_dir(follow_symlinks=False):
                for dirpath, _dirs, files in os.walk(entry.path):
                    reldir = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
                    for name in files:
                        yield f"{reldir}/{name}", name.startswith(TMP_PREFIX)
            else:
                yield rel, entry.name.startswith(TMP_PREFIX)

    def _prune(self, dirs: set[Path]) -> None:
        """Remove directories left empty, deepest first, never the root."""
        candidates: set[Path] = set()
        for d in dirs:
            while d != self.root and self.root in d.parents:
                candidates.add(d)
                d = d.parent
        for d in sorted(candidates, key=lambda p: len(p.parts), reverse=True):
            try:
                d.rmdir()
            except OSError:
                pass  # not empty (or already gone, or a writer just used it)
