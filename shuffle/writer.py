"""Map-side shuffle output: ONE object per map task holding every reduce partition.

Layout of the object (all integers little-endian)::

    [IPC stream of partition 0][IPC stream of partition 1]...   empty partitions: 0 bytes
    [offsets: (R + 1) x int64]                                  partition r = [o[r], o[r+1])
    [footer: index length int64][magic b"SPKLSHF1"]             fixed 16 bytes

One object per map task (not R) keeps store requests at M puts instead of M x R, which
is what dominates on S3/Redis. The driver gets the offsets from the task's MapStatus;
``read_index`` recovers them from the object alone (e.g. after a driver restart).

Writing: rows come in as record batches (a task streams DuckDB's result), are grouped by
partition id one batch at a time (``BATCH_ROWS``), and each partition is one IPC stream of
those slices; the IPC writer hands the slices' buffers over without copying (``_Chunks``),
so the map output is held once, as the grouped batches, and a file store writes it out
from there. Before (whole result as one table, concatenated, grouped, encoded into a
buffer, put) the 1 GB sort's map stage held and touched ~4x its output: task CPU 17.8 s,
now 8.5-9.5 s (tpcds.sort, same machine, load 6-13).

Codec: ``compression="auto"`` (the default) means no codec on ``file://`` and LZ4
elsewhere. Measured with ``benchmarks/shuffle_codec.py`` (this 2-core machine, 50 MB per
shape, best of 3; write = group + encode + put, read = every partition fetched + decoded)::

    shape (R = reduce partitions)   codec   MB out   write s   read s
    random numbers, R=8             none     50.0      0.06     0.03
                                    lz4      50.0      0.07     0.01
    random numbers, R=200           none     50.2      0.09     0.03
                                    lz4      50.2      0.11     0.06
    TPC-DS-like fact rows, R=8      none     50.0      0.06     0.01
                                    lz4      29.3      0.10     0.02
                                    zstd     20.1      0.14     0.03
    TPC-DS-like fact rows, R=200    none     50.2      0.11     0.02
                                    lz4      32.3      0.22     0.10
                                    zstd     19.0      0.26     0.13
    sorted / low-cardinality, R=200 none     50.1      0.10     0.02
                                    lz4      25.5      0.19     0.10

On the local store (page-cache speed) LZ4 never pays in time: it saves 35-55 % of the
bytes on realistic data but costs 1.7-2x the write time and, with R=200 (small blocks,
per-buffer codec overhead), up to 5x the read time. Over a network the bytes dominate:
with moto S3's figures (PUT 127 MB/s, GET 295 MB/s, ARCHITECTURE.md) the 21 MB saved at
R=8 is ~0.24 s against ~0.05 s of codec work; at R=200 it is about break-even (0.2 s vs
0.19 s), and real S3 or Redis from a function is slower than moto on localhost. Hence
``None`` for ``file://`` and ``"lz4"`` for every other scheme; a job can still force a
codec (e.g. ``file://`` on EFS/NFS).
Readers need no setting: each IPC stream says how it was compressed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from shuffle.arrow_io import write_options
from storage.base import BlockStore

MAGIC = b"SPKLSHF1"
CODEC_BY_SCHEME: dict[str, str | None] = {"file": None}  # measured; see module docstring
STREAMING_SCHEMES = {"file"}  # put_stream writes the chunks out as they are, one request
NETWORK_CODEC = "lz4"
FOOTER = struct.Struct("<q8s")  # index length in bytes, magic


@dataclass
class MapOutput:
    """What a map task reports (Spark's MapStatus): where each reduce partition lives.

    ``partition_offsets[r]`` and ``partition_lengths[r]`` locate partition ``r`` in the
    object ``key``; ``bytes`` is the whole object size (data + index + footer).
    """

    key: str
    partition_lengths: list[int]
    partition_offsets: list[int]
    rows: int
    bytes: int
    partition_rows: list[int] | None = None

    def block(self, reduce_id: int) -> dict[str, Any]:
        """The ``{"key", "offset", "length"}`` slice a reduce task reads."""
        return {
            "key": self.key,
            "offset": self.partition_offsets[reduce_id],
            "length": self.partition_lengths[reduce_id],
        }


# Rows grouped at a time. Smaller batches keep DuckDB's Arrow buffers and the take's
# scratch in reused memory: 1 GB sort map stage (3-file tasks) task CPU 7.6 s at 1M rows,
# 5.8-6.2 s at 256k, 5.2-6.1 s at 64k-128k; 256k keeps slices of R=200 partitions at
# ~1,300 rows, so per-batch IPC framing stays negligible.
BATCH_ROWS = 1 << 18


def _partition_counts(partition_ids: pa.Array | pa.ChunkedArray, num_partitions: int) -> np.ndarray:
    if partition_ids.null_count:
        raise ValueError("partition ids must not be null")
    if len(partition_ids) and not pa.types.is_integer(partition_ids.type):
        raise TypeError(f"partition ids must be integers, got {partition_ids.type}")
    lo, hi = pc.min_max(partition_ids).values()
    if len(partition_ids) and (lo.as_py() < 0 or hi.as_py() >= num_partitions):
        raise ValueError(
            f"partition ids must be in [0, {num_partitions}), got [{lo.as_py()}, {hi.as_py()}]"
        )
    ids = partition_ids.to_numpy() if len(partition_ids) else np.empty(0, dtype=np.int64)
    return np.bincount(ids, minlength=num_partitions)


def split_by_partition(
    table: pa.Table | pa.RecordBatch,
    partition_ids: pa.Array | pa.ChunkedArray | None,
    num_partitions: int,
) -> tuple[pa.Table | pa.RecordBatch, np.ndarray]:
    """(rows grouped by partition id in stable order, row count per partition).

    One stable sort + one ``take``; partitions are then zero-copy slices by the counts.
    """
    if num_partitions < 1:
        raise ValueError(f"num_partitions must be >= 1, got {num_partitions}")
    if partition_ids is None:
        counts = np.zeros(num_partitions, dtype=np.int64)
        counts[0] = table.num_rows
        return table, counts
    if len(partition_ids) != table.num_rows:
        raise ValueError(f"{len(partition_ids)} partition ids for {table.num_rows} rows")
    counts = _partition_counts(partition_ids, num_partitions)
    if np.count_nonzero(counts) <= 1:
        return table, counts  # already "grouped": nothing to reorder
    if isinstance(table, pa.Table):
        # One contiguous chunk first: a take across many small chunks measured 1.2-3x the
        # CPU of concatenating once and taking from that (3 M gensort rows, 23 chunks).
        table = table.combine_chunks()
    return table.take(pc.sort_indices(partition_ids)), counts


def default_codec(store: BlockStore) -> str | None:
    """The codec ``compression="auto"`` picks for ``store``: by URI scheme, see above."""
    scheme = store.uri.partition(":")[0].lower()
    return CODEC_BY_SCHEME.get(scheme, NETWORK_CODEC)


class _Chunks:
    """A write-only file for pyarrow's IPC writer that keeps what it is handed.

    The writer passes each body buffer as a ``pa.Buffer`` (a zero-copy view of the record
    batch) and only the small framing as ``bytes``, so "encoding" a partition copies
    nothing: the store then writes these views straight out (``put_stream``) or copies
    them once into the object. Encoding into a buffer first cost a full extra pass over
    the map output, and on this VM every first touch of memory is paid again in the
    kernel (~1 ms per MB: measured 0.25-1.2 s per 325 MB map output).
    """

    closed = False

    def __init__(self) -> None:
        self.chunks: list[pa.Buffer | bytes] = []
        self.size = 0

    def write(self, data: pa.Buffer | bytes) -> int:
        n = data.size if isinstance(data, pa.Buffer) else len(data)
        if n:
            self.chunks.append(data)
            self.size += n
        return n

    def tell(self) -> int:
        return self.size

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class _PartitionStreams:
    """One open IPC stream per non-empty reduce partition, fed batch by batch."""

    def __init__(self, schema: pa.Schema, num_partitions: int, options: ipc.IpcWriteOptions):
        self.schema, self.options = schema, options
        self.sinks: list[_Chunks | None] = [None] * num_partitions
        self.writers: list[ipc.RecordBatchStreamWriter | None] = [None] * num_partitions
        self.rows = np.zeros(num_partitions, dtype=np.int64)

    def add(self, grouped: pa.RecordBatch, counts: np.ndarray) -> None:
        start = 0
        for r in np.flatnonzero(counts).tolist():
            n = int(counts[r])
            writer = self.writers[r]
            if writer is None:
                self.sinks[r] = _Chunks()
                writer = self.writers[r] = ipc.new_stream(self.sinks[r], self.schema, options=self.options)
            writer.write_batch(grouped.slice(start, n))
            start += n
        self.rows += counts

    def finish(self) -> tuple[list[pa.Buffer | bytes], list[int]]:
        """Every partition's stream in order, then the index and footer; and the offsets."""
        chunks: list[pa.Buffer | bytes] = []
        offsets = [0]
        for writer, sink in zip(self.writers, self.sinks):
            if writer is not None and sink is not None:
                writer.close()  # end-of-stream marker
                chunks += sink.chunks
                offsets.append(offsets[-1] + sink.size)
            else:
                offsets.append(offsets[-1])
        index = np.asarray(offsets, dtype="<i8").tobytes()
        chunks += [index, FOOTER.pack(len(index), MAGIC)]
        return chunks, offsets


def _batches(
    data: pa.Table | pa.RecordBatchReader, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    if isinstance(data, pa.Table):
        yield from data.to_batches(max_chunksize=batch_rows)
    else:
        yield from data


def _put(store: BlockStore, key: str, chunks: list[pa.Buffer | bytes], size: int) -> None:
    """Stores that write incrementally take the views as they are (no copy in user space);
    the others get one contiguous buffer, assembled with one copy."""
    if store.uri.partition(":")[0].lower() in STREAMING_SCHEMES:
        store.put_stream(key, chunks)
        return
    target = pa.allocate_buffer(size)
    sink = pa.FixedSizeBufferWriter(target)
    for c in chunks:
        sink.write(c)
    store.put(key, memoryview(target))


def write_map_output(
    store: BlockStore,
    key: str,
    data: pa.Table | pa.RecordBatchReader,
    partition_ids: pa.Array | pa.ChunkedArray | str | None,
    num_partitions: int,
    compression: str | None = "auto",
    *,
    batch_rows: int = BATCH_ROWS,
) -> MapOutput:
    """Split ``data`` by partition id and store it as one indexed object at ``key``.

    ``partition_ids``: one id per row, or the name of the column of ``data`` that holds
    them (not stored), or ``None`` (all rows in partition 0). ``data`` may be a
    record-batch reader (a DuckDB result): rows are grouped ``batch_rows`` at a time, so
    only the grouped output is ever held, not the query result as well.
    ``compression``: ``"auto"`` (per store, see module docstring), ``"lz4"``, ``"zstd"``
    or ``None``.
    """
    if num_partitions < 1:
        raise ValueError(f"num_partitions must be >= 1, got {num_partitions}")
    pid_column = partition_ids if isinstance(partition_ids, str) else None
    if partition_ids is not None and pid_column is None:
        if len(partition_ids) != data.num_rows:
            raise ValueError(f"{len(partition_ids)} partition ids for {data.num_rows} rows")
        _partition_counts(partition_ids, num_partitions)  # validate before writing anything
        data = data.append_column("__sparkless_writer_pid", partition_ids)
        pid_column = "__sparkless_writer_pid"
    schema = data.schema
    if pid_column is not None:
        schema = schema.remove(schema.get_field_index(pid_column))
    codec = default_codec(store) if compression == "auto" else compression
    streams = _PartitionStreams(schema, num_partitions, write_options(codec))
    for batch in _batches(data, batch_rows):
        if pid_column is None:
            ids = None
        else:
            ids = batch.column(pid_column)
            batch = batch.drop_columns([pid_column])
        grouped, counts = split_by_partition(batch, ids, num_partitions)
        streams.add(grouped, counts)
    chunks, offsets = streams.finish()
    size = offsets[-1] + len(chunks[-2]) + FOOTER.size
    _put(store, key, chunks, size)
    return MapOutput(
        key=key,
        partition_lengths=np.diff(offsets).tolist(),
        partition_offsets=offsets[:-1],
        rows=int(streams.rows.sum()),
        bytes=size,
        partition_rows=streams.rows.tolist(),
    )


def read_index(store: BlockStore, key: str, *, tail_guess: int = 4096) -> list[int]:
    """The R + 1 partition offsets of the map output ``key``, from the object itself.

    Reads the last ``tail_guess`` bytes first, which holds the footer and the index of up
    to ~500 partitions, so most lookups cost two requests (size + one ranged get).
    """
    size = store.size(key)
    if size < FOOTER.size:
        raise ValueError(f"{key!r} is too small ({size} bytes) to be a map output")
    tail_len = min(size, max(tail_guess, FOOTER.size))
    tail = store.get_range(key, size - tail_len, tail_len)
    index_len, magic = FOOTER.unpack_from(tail, tail_len - FOOTER.size)
    if magic != MAGIC or index_len < 16 or index_len % 8 or index_len > size - FOOTER.size:
        raise ValueError(f"{key!r} is not a map output (bad footer)")
    if index_len + FOOTER.size <= tail_len:
        raw = tail[tail_len - FOOTER.size - index_len : tail_len - FOOTER.size]
    else:
        raw = store.get_range(key, size - FOOTER.size - index_len, index_len)
    offsets = np.frombuffer(raw, dtype="<i8").tolist()
    if offsets[0] != 0 or offsets[-1] != size - FOOTER.size - index_len:
        raise ValueError(f"{key!r} has an inconsistent index")
    return offsets
