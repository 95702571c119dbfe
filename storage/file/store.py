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

from storage.base import BlockNotFound, BlockStore, StoreError
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


class LocalDirStore(BlockStore):
    """Keys are files below ``config.root``; the directory is created if missing."""

    def __init__(self, config: LocalDirConfig) -> None:
        super().__init__()
        self.config = config
        self.root = config.root
        self.uri = "file://" + str(self.root)
        self._lock = threading.Lock()
        self.root.mkdir(parents=True, exist_ok=True)

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
        try:
            with open(fd, "wb", closefd=True) as f:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    f.write(data)
                else:
                    for chunk in data:
                        f.write(chunk)
                if self.config.fsync:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        with self._timed("get") as io:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                raise self._missing(key) from None
            io[0] = len(data)
        return data

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError(f"bad range offset={offset} length={length} for {key!r}")
        path = self._path(key)
        with self._timed("get_range") as io:
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    data = f.read(length)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                raise self._missing(key) from None
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
