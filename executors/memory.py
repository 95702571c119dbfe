"""How much memory one task may use, and what happens when its data is larger: it spills.

A function has a fixed memory size (Lambda: ``MemorySize``, 128 MB-10 GB; locally the size a
sandbox stands in for). Before each task the handler gives DuckDB a ``memory_limit`` of a
share of it and a ``temp_directory`` to spill to, so DuckDB's sorts, aggregates and joins
run out of core instead of failing. What DuckDB does not manage is the Arrow data the
function holds itself; the large case is the reduce side of a shuffle (one partition of a
skewed or huge sort), so a shuffle input larger than a share of the limit is *streamed*:
its blocks are fetched and decoded a few at a time and fed to DuckDB as a record-batch
reader, never held whole. Settings (Spark conf, per job):

``spark.sparkless.task.memoryLimit``   DuckDB's ``memory_limit`` (``512m``, ``2g``); unset:
                                       ``memoryFraction`` of the function memory
``spark.sparkless.task.memoryFraction`` share of the function memory for DuckDB (0.5); the
                                       rest is the interpreter, Arrow buffers and the store
``spark.sparkless.task.spillDir``      where DuckDB spills (default: ``<tmp>/sparkless-spill``,
                                       i.e. ``/tmp`` - Lambda's ephemeral storage)
``spark.sparkless.shuffle.streamFraction`` a shuffle input is streamed when its blocks add up
                                       to more than this share of the limit (0.25)

The function memory is ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE`` inside a Lambda, else
``spark.sparkless.lambda.memory`` / ``spark.sparkless.local.memory`` (MB, by
``spark.sparkless.platform``; the same keys the scheduler and the cost model read), else
2048 MB. The map side is bounded by its input split (``spark.sql.files.maxPartitionBytes``
for scans, one reduce partition for later stages): it holds one task's output while it
partitions it.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from storage.units import parse_size

MEMORY_LIMIT = "spark.sparkless.task.memoryLimit"
MEMORY_FRACTION = "spark.sparkless.task.memoryFraction"
SPILL_DIR = "spark.sparkless.task.spillDir"
STREAM_FRACTION = "spark.sparkless.shuffle.streamFraction"
DEFAULT_FUNCTION_MB = 2048
DEFAULT_FRACTION = 0.5
DEFAULT_STREAM_FRACTION = 0.25
STREAM_LOOKAHEAD = 2  # blocks fetched ahead of the one DuckDB is reading


@dataclass(frozen=True)
class TaskMemory:
    function_bytes: int
    limit_bytes: int  # DuckDB memory_limit
    spill_dir: str
    stream_bytes: int  # shuffle inputs above this are streamed


def function_memory_bytes(conf: Mapping[str, Any]) -> int:
    env = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    if env:
        return int(env) << 20
    platform = str(conf.get("spark.sparkless.platform") or "local")
    key = (
        "spark.sparkless.lambda.memory" if platform == "lambda" else "spark.sparkless.local.memory"
    )
    return int(conf.get(key) or DEFAULT_FUNCTION_MB) << 20


def task_memory(conf: Mapping[str, Any]) -> TaskMemory:
    function = function_memory_bytes(conf)
    if conf.get(MEMORY_LIMIT):
        limit = parse_size(str(conf[MEMORY_LIMIT]))
    else:
        fraction = float(conf.get(MEMORY_FRACTION) or DEFAULT_FRACTION)
        if not 0 < fraction <= 1:
            raise ValueError(f"{MEMORY_FRACTION} must be in (0, 1], got {fraction}")
        limit = int(function * fraction)
    root = str(conf.get(SPILL_DIR) or os.path.join(tempfile.gettempdir(), "sparkless-spill"))
    spill = os.path.join(root, str(os.getpid()))  # one DuckDB per directory
    stream = int(limit * float(conf.get(STREAM_FRACTION) or DEFAULT_STREAM_FRACTION))
    return TaskMemory(function, limit, spill, stream)


_applied: dict[int, tuple[int, str]] = {}


def apply(con: duckdb.DuckDBPyConnection, memory: TaskMemory) -> None:
    """Set the connection's limit and spill directory (only when they change)."""
    want = (memory.limit_bytes, memory.spill_dir)
    if _applied.get(id(con)) == want:
        return
    # only the parent: DuckDB creates the per-process directory lazily (on its first spill)
    # and removes what it created when the connection closes
    os.makedirs(os.path.dirname(memory.spill_dir), exist_ok=True)
    retain_memory(con, memory)
    con.execute(f"SET memory_limit = '{max(memory.limit_bytes >> 20, 1)}MB'")
    con.execute("SET temp_directory = '" + memory.spill_dir.replace("'", "''") + "'")
    _applied[id(con)] = want


def retain_memory(con: duckdb.DuckDBPyConnection, memory: TaskMemory) -> None:
    """Keep freed memory in the function for the next batch and the next task.

    Why it matters on Firecracker: ``executors.allocator`` (which also configures DuckDB's
    own jemalloc; that has to happen before DuckDB loads). Here: Arrow allocates from
    mimalloc, which keeps freed segments for reuse. Arrow's jemalloc pool, used before,
    re-faulted every large buffer however long its decay: 4 takes of 262k gensort rows
    (104 MB) cost 25k minor faults in every round with jemalloc (decay 10 s or never),
    0-1.9k with mimalloc; the 1 GB sort's map stage replayed in one process went from
    393-397k faults to 130-132k. DuckDB keeps its allocator caches up to its memory limit
    (it is bounded by that anyway).
    """
    try:
        pa.set_memory_pool(pa.mimalloc_memory_pool())
    except NotImplementedError:  # a pyarrow built without mimalloc: keep its default pool
        pass
    con.execute(f"SET allocator_flush_threshold = '{max(memory.limit_bytes >> 20, 1)}MB'")
    retain_malloc(memory.limit_bytes)


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
MALLOC_MMAP_MAX_BYTES = 256 << 20
_malloc_retained: int | None = None


def retain_malloc(limit_bytes: int) -> bool:
    """glibc malloc (DuckDB's Arrow export and Parquet reader, Python's big buffers) keeps
    freed memory up to ``limit_bytes`` instead of unmapping it.

    By default glibc serves an allocation over its dynamic threshold (32 MB at most) with a
    fresh ``mmap`` and trims the heap top above twice that, so every batch of a map task
    faulted its buffers in again. Measured on the 1 GB sort's map pipeline (one 100 MB
    file, one process, warm, 4 rounds): minor faults 60-66k -> 32k a round, task CPU 0.65 s
    -> 0.59 s. Retained memory is bounded by the task's peak, which the memory limit
    bounds anyway; a no-op off glibc. Returns whether it was applied.
    """
    global _malloc_retained
    if _malloc_retained == limit_bytes:
        return True
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False
    limit = max(int(limit_bytes), 64 << 20)
    ok = bool(mallopt(M_MMAP_THRESHOLD, min(MALLOC_MMAP_MAX_BYTES, limit)))
    ok = bool(mallopt(M_TRIM_THRESHOLD, min(limit, (1 << 31) - 1))) and ok
    if ok:
        _malloc_retained = limit_bytes
    return ok


class SpillWatch:
    """Peak bytes in the spill directory while a block runs (DuckDB deletes its temporary
    files when the query ends, so they are sampled every ``interval`` seconds)."""

    def __init__(self, path: str, interval: float = 0.05) -> None:
        self.path, self.interval, self.peak = path, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spill-watch", daemon=True)

    def _size(self) -> int:
        total = 0
        try:
            with os.scandir(self.path) as it:
                for e in it:
                    try:
                        total += e.stat().st_size
                    except OSError:
                        pass  # deleted while we looked
        except OSError:
            pass
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self._size())

    def __enter__(self) -> SpillWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def input_bytes(spec: Mapping[str, Any]) -> int:
    return sum(int(b["length"]) for b in spec.get("blocks") or ())


def referenced_once(sql: str, name: str) -> bool:
    """A reader can be scanned only once: stream an input only if the SQL names it once."""

    return len(re.findall(rf"(?<![\w$]){re.escape(name)}(?![\w$])", sql)) == 1


class BlockStream:
    """A shuffle input as a record-batch reader: blocks fetched ``STREAM_LOOKAHEAD`` ahead
    in a thread, decoded, cast to the input schema, handed to DuckDB one at a time."""

    def __init__(self, fetch, blocks: Sequence[Mapping[str, Any]], schema: pa.Schema) -> None:
        self._fetch = fetch  # one block spec -> pa.Table (shuffle.reader.read_blocks of one)
        self._blocks = [b for b in blocks if b["length"]]
        self.schema = schema
        self.rows = 0

    def _tables(self) -> Iterator[pa.Table]:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shuffle-stream") as pool:
            pending = [pool.submit(self._fetch, b) for b in self._blocks[:STREAM_LOOKAHEAD]]
            nxt = len(pending)
            while pending:
                table = pending.pop(0).result()
                if nxt < len(self._blocks):
                    pending.append(pool.submit(self._fetch, self._blocks[nxt]))
                    nxt += 1
                yield table

    def _batches(self) -> Iterator[pa.RecordBatch]:
        for table in self._tables():
            for batch in table.to_batches():
                self.rows += batch.num_rows
                yield batch

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.schema, self._batches())
