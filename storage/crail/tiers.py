"""Where a storage server keeps block bytes: a fixed-size DRAM tier, then a disk tier.

A new block goes to DRAM if it fits in what is left of the DRAM capacity, otherwise to
the disk directory (Crail's tiering: fill the fastest tier first, then the next). Space
is reserved before the bytes arrive, so concurrent writers never overshoot the capacity,
and a block becomes readable only once all its bytes are in (``commit``). Blocks are
named by the 64-bit id the metadata server assigned; the tiers know nothing of keys.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DISK_CHUNK = 1 << 20
TMP_PREFIX = ".tmp-"


class NoSpace(Exception):
    """DRAM is full and there is no disk tier."""


@dataclass(frozen=True)
class DramBlock:
    data: bytearray


@dataclass(frozen=True)
class DiskBlock:
    path: Path
    size: int


class BlockWriter:
    """Receives one block: the caller fills each view ``views()`` yields, then commits."""

    def __init__(self, tiers: Tiers, block: int, size: int, tier: str) -> None:
        self.tiers, self.block, self.size, self.tier = tiers, block, size, tier
        self._buf = bytearray(size) if tier == "dram" else None
        self._tmp: Path | None = None

    def views(self) -> Iterator[memoryview]:
        if self._buf is not None:
            if self.size:
                yield memoryview(self._buf)
            return
        assert self.tiers.disk_dir is not None
        self._tmp = self.tiers.disk_dir / f"{TMP_PREFIX}{self.block:016x}.{threading.get_ident()}"
        chunk = memoryview(bytearray(min(self.size, DISK_CHUNK) or 1))
        with open(self._tmp, "wb", buffering=0) as f:
            remaining = self.size
            while remaining:
                view = chunk[: min(remaining, DISK_CHUNK)]
                yield view
                f.write(view)
                remaining -= len(view)

    def commit(self) -> None:
        self.tiers._commit(self)

    def abort(self) -> None:
        self.tiers._release(self.tier, self.size)
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)


class Tiers:
    """The blocks of one storage server, by id, in DRAM or on disk."""

    def __init__(self, dram_capacity: int, disk_dir: Path | None) -> None:
        if dram_capacity < 0:
            raise ValueError(f"DRAM capacity must be >= 0, got {dram_capacity}")
        self.dram_capacity = dram_capacity
        self.disk_dir = disk_dir
        self._dram: dict[int, bytearray] = {}
        self._disk: dict[int, int] = {}  # id -> size
        self.dram_reserved = 0
        self.disk_reserved = 0
        self._lock = threading.Lock()
        if disk_dir is not None:
            disk_dir.mkdir(parents=True, exist_ok=True)
            self._wipe_disk()

    def writer(self, block: int, size: int) -> BlockWriter:
        """Reserve room for ``size`` bytes in the first tier that has it."""
        with self._lock:
            if self.dram_reserved + size <= self.dram_capacity:
                self.dram_reserved += size
                tier = "dram"
            elif self.disk_dir is not None:
                self.disk_reserved += size
                tier = "disk"
            else:
                raise NoSpace(
                    f"DRAM tier full ({self.dram_reserved} of {self.dram_capacity} bytes used, "
                    f"{size} more wanted) and no disk tier configured"
                )
        return BlockWriter(self, block, size, tier)

    def _commit(self, w: BlockWriter) -> None:
        with self._lock:  # an id is written once; a retried PUT replaces the old bytes
            old_data = self._dram.pop(w.block, None)
            old_size = self._disk.pop(w.block, None)
            self.dram_reserved -= len(old_data) if old_data is not None else 0
            self.disk_reserved -= old_size or 0
        if w.tier == "disk":
            assert w._tmp is not None
            os.replace(w._tmp, self._path(w.block))
        elif old_size is not None:
            self._path(w.block).unlink(missing_ok=True)
        with self._lock:
            if w.tier == "dram":
                assert w._buf is not None
                self._dram[w.block] = w._buf
            else:
                self._disk[w.block] = w.size

    def _release(self, tier: str, size: int) -> None:
        with self._lock:
            if tier == "dram":
                self.dram_reserved -= size
            else:
                self.disk_reserved -= size

    def _path(self, block: int) -> Path:
        assert self.disk_dir is not None
        return self.disk_dir / f"{block:016x}"

    def find(self, block: int) -> DramBlock | DiskBlock | None:
        with self._lock:
            data = self._dram.get(block)
            if data is not None:
                return DramBlock(data)
            size = self._disk.get(block)
        return None if size is None else DiskBlock(self._path(block), size)

    def delete(self, block: int) -> bool:
        with self._lock:
            data = self._dram.pop(block, None)
            size = self._disk.pop(block, None)
            if data is not None:
                self.dram_reserved -= len(data)
            if size is not None:
                self.disk_reserved -= size
        if size is not None:
            self._path(block).unlink(missing_ok=True)
        return data is not None or size is not None

    def clear(self) -> None:
        """Forget every block (the metadata server no longer knows any of them)."""
        with self._lock:
            blocks = list(self._dram) + list(self._disk)
        for b in blocks:
            self.delete(b)

    def _wipe_disk(self) -> None:
        """Blocks of an earlier run are unreachable (ids are per metadata run): remove them."""
        assert self.disk_dir is not None
        for entry in os.scandir(self.disk_dir):
            name = entry.name.removeprefix(TMP_PREFIX)
            if entry.is_file() and len(name.split(".")[0]) == 16:
                os.unlink(entry.path)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "dram_capacity": self.dram_capacity,
                "dram_used": self.dram_reserved,
                "dram_blocks": len(self._dram),
                "disk_used": self.disk_reserved,
                "disk_blocks": len(self._disk),
            }
