"""The function entry point: one task attempt in, one small status out (``executors.events``).

The same ``handler(event, context)`` runs in a local worker process and, later, as the AWS
Lambda handler. A warm function keeps its DuckDB connection and its store clients for the
next task (a reused connection runs a tiny fragment in ~2 ms, a new one costs ~30 ms), but
no task state: input views are dropped when the task ends.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.ipc as ipc

from executors import builtins
from executors.errors import task_error
from executors.events import TaskEvent, TaskResult, attempt_prefix
from executors.files import write_files
from executors.memory import (
    BlockStream,
    SpillWatch,
    apply,
    input_bytes,
    referenced_once,
    task_memory,
)
from shuffle.arrow_io import ipc_to_table, schema_from_b64, schema_to_b64, write_options
from shuffle.partitioning import partition_id_sql
from shuffle.reader import read_blocks
from shuffle.writer import BATCH_ROWS, default_codec, write_map_output
from storage import BlockStore, open_store
from storage import files as storage_files
from storage.units import parse_size

THREADS_CONF = "spark.sparkless.task.threads"
DEFAULT_THREADS = 1
RESULT_BATCH_ROWS = 64 * 1024
PID_COLUMN = "__sparkless_pid"

_lock = threading.Lock()  # one task at a time per process, as in a Lambda sandbox
_con: duckdb.DuckDBPyConnection | None = None
_con_threads = 0
_con_zone: str | None = None
TIME_ZONE_CONF = "spark.sql.session.timeZone"


def connection(threads: int = DEFAULT_THREADS) -> duckdb.DuckDBPyConnection:
    """This process's DuckDB connection, created once and resized when a task asks."""
    global _con, _con_threads
    if _con is None:
        _con = duckdb.connect(config={"threads": threads})
        _con_threads = threads
    elif threads != _con_threads:
        _con.execute(f"SET threads = {int(threads)}")
        _con_threads = threads
    return _con


def duckdb_time_zone(zone: str) -> str:
    """Spark's zone ids in ICU's spelling: offsets (``+08:00``) are ``GMT+08:00``, ``Z`` is UTC."""
    zone = zone.strip()
    if zone in ("Z", "z"):
        return "UTC"
    m = re.fullmatch(r"([+-])(\d{1,2})(?::(\d{2}))?", zone)
    if m and int(m.group(3) or 0) == 0:  # Etc/GMT-8 is +08:00 (POSIX signs); pytz knows it too
        return "UTC" if int(m.group(2)) == 0 else f"Etc/GMT{'-' if m.group(1) == '+' else '+'}{int(m.group(2))}"
    if m:  # minutes: ICU's custom id (Python UDFs over timestamps cannot name it)
        return "GMT" + zone
    return zone


def set_time_zone(con: duckdb.DuckDBPyConnection, zone: str | None) -> None:
    """DuckDB's TimeZone (what TIMESTAMPTZ casts, hour() and friends read) = the session's
    ``spark.sql.session.timeZone``, as Spark's are; set only when it changes."""
    global _con_zone
    if not zone or zone == _con_zone:
        return
    con.execute(f"SET TimeZone = '{duckdb_time_zone(zone).replace(chr(39), '')}'")
    _con_zone = zone


def warm() -> None:
    """Open the connection and run a tiny fragment, so a new worker's first task is not cold."""
    with _lock:
        con = connection()
        con.register("__sparkless_warm", pa.table({"x": [1, 2, 3]}))
        try:
            con.sql("SELECT sum(x) FROM __sparkless_warm").fetchall()
        finally:
            con.unregister("__sparkless_warm")


def io_codec(conf: Mapping[str, str], store: BlockStore) -> str | None:
    """Arrow IPC codec for shuffle and result blocks, from Spark's own settings.

    Unset, the store decides (``shuffle.writer.default_codec``: none on local disk, where
    LZ4 measured slower, LZ4 over a network). Arrow IPC offers LZ4 and ZSTD; Spark's
    snappy/lzf (no IPC equivalent) fall back to LZ4.
    """
    if str(conf.get("spark.shuffle.compress", "true")).lower() == "false":
        return None
    codec = conf.get("spark.io.compression.codec")
    if codec is None:
        return default_codec(store)
    codec = str(codec).lower()
    return codec if codec in ("lz4", "zstd") else "lz4"


def _fragment(sql: str) -> str:
    """The task's SQL, embeddable as a subquery."""
    return sql.strip().rstrip(";").strip()


BROADCAST_CACHE_CONF = "spark.sparkless.broadcastCache.maxBytes"
_broadcasts: OrderedDict[tuple, pa.Table] = OrderedDict()


def _cached_broadcast(store: BlockStore, spec: Mapping[str, Any], budget: int) -> pa.Table:
    """A broadcast read once per warm function: keyed by its exact blocks, LRU by bytes.

    The schema is part of the key: an empty broadcast has no blocks, and two empty ones
    with different columns must not share an entry."""
    key = (spec["schema"], *((b["key"], b["offset"], b["length"]) for b in spec["blocks"]))
    table = _broadcasts.get(key)
    if table is not None:
        _broadcasts.move_to_end(key)
        return table
    table = read_blocks(store, spec["blocks"], schema_from_b64(spec["schema"]))
    if table.nbytes <= budget:
        _broadcasts[key] = table
        while sum(t.nbytes for t in _broadcasts.values()) > budget:
            _broadcasts.popitem(last=False)
    return table


def load_input(store: BlockStore, spec: Mapping[str, Any], broadcast_budget: int = 0) -> pa.Table:
    if spec["kind"] == "shuffle" and spec.get("cache") and broadcast_budget > 0:
        return _cached_broadcast(store, spec, broadcast_budget)
    if spec["kind"] == "shuffle":
        return read_blocks(store, spec["blocks"], schema_from_b64(spec["schema"]))
    if spec["kind"] == "block":
        return ipc_to_table(store.get(spec["key"]))
    raise ValueError(f"unknown input kind {spec['kind']!r}")


def write_shuffle(
    con: duckdb.DuckDBPyConnection, store: BlockStore, event: TaskEvent, sql: str
) -> dict[str, Any]:
    out = event["output"]
    n = int(out["num_partitions"])
    partitioning = out.get("partitioning") or {"kind": "single"}
    started = time.perf_counter()
    pids: str | None = None
    if partitioning.get("kind") == "precomputed":  # the fragment's own id column, not stored
        query, pids = sql, str(partitioning["column"])
    elif partitioning.get("kind") == "single" or n == 1:
        query = sql
    else:
        pid_sql = partition_id_sql(partitioning, n)
        query = f"SELECT *, {pid_sql} AS {PID_COLUMN} FROM ({sql}) AS __sparkless_fragment"
        pids = PID_COLUMN
    # streamed: the writer groups a batch at a time and never holds the whole result
    reader = TimedReader(con.sql(query), BATCH_ROWS)
    status = write_map_output(
        store,
        attempt_prefix(event) + "/shuffle.data",
        reader.reader(),
        pids,
        n,
        io_codec(event.get("conf") or {}, store),
    )
    query_seconds = reader.seconds
    return {
        "key": status.key,
        "partition_lengths": status.partition_lengths,
        "partition_offsets": status.partition_offsets,
        "partition_rows": status.partition_rows,
        "rows": status.rows,
        "bytes": status.bytes,
        # DuckDB producing the fragment's batches vs grouping, encoding and storing them
        "timing": {
            "query_seconds": query_seconds,
            "shuffle_write_seconds": time.perf_counter() - started - query_seconds,
        },
    }


class TimedReader:
    """A record-batch reader that adds up the time spent waiting for its batches (DuckDB
    running the fragment), apart from what the consumer does with them.

    An error DuckDB hits after the first batch crosses the Arrow stream as a bare
    ``OSError`` with DuckDB's message; it is raised again as ``duckdb.Error`` (same
    message), so the Spark error mapping and the Python-UDF failure path still see it."""

    def __init__(self, relation: duckdb.DuckDBPyRelation, batch_rows: int) -> None:
        t = time.perf_counter()  # a blocking fragment (sort, sample) runs here
        self._reader = relation.to_arrow_reader(batch_rows)
        self.seconds = time.perf_counter() - t

    def _batches(self) -> Iterator[pa.RecordBatch]:
        while True:
            t = time.perf_counter()
            try:
                batch = self._reader.read_next_batch()
            except StopIteration:
                self.seconds += time.perf_counter() - t
                return
            except (OSError, pa.ArrowException) as e:
                raise duckdb.Error(str(e)) from e
            self.seconds += time.perf_counter() - t
            yield batch

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self._reader.schema, self._batches())


def write_result(
    con: duckdb.DuckDBPyConnection, store: BlockStore, event: TaskEvent, sql: str
) -> dict[str, Any]:
    """Stream the rows batch by batch into one IPC stream, so DuckDB never materialises them."""
    reader = TimedReader(con.sql(sql), RESULT_BATCH_ROWS).reader()  # keeps DuckDB's error class
    sink = pa.BufferOutputStream()
    rows = 0
    options = write_options(io_codec(event.get("conf") or {}, store))
    with ipc.new_stream(sink, reader.schema, options=options) as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    data = sink.getvalue()
    key = attempt_prefix(event) + "/result.arrow"
    store.put(key, memoryview(data))
    return {"key": key, "rows": rows, "bytes": data.size, "schema": schema_to_b64(reader.schema)}


def write_output(
    con: duckdb.DuckDBPyConnection, store: BlockStore, event: TaskEvent
) -> dict[str, Any]:
    sql = _fragment(event["sql"])
    kind = event["output"]["kind"]
    if kind == "shuffle":
        return write_shuffle(con, store, event, sql)
    if kind == "result":
        return write_result(con, store, event, sql)
    if kind == "files":
        written = write_files(con, sql, event["output"], event.get("conf"))
        return {
            "path": event["output"]["path"],
            "files": written.files,
            "rows": written.rows,
            "bytes": written.bytes,
        }
    raise ValueError(f"unknown output kind {kind!r}")


def _stores(event: TaskEvent) -> dict[str, BlockStore]:
    """Every store the task touches: the job's, and per shuffle (spark.sparkless.store=auto)."""
    conf = event.get("conf")
    uris = {event["store"], event["output"].get("store") or event["store"]}
    uris.update(spec.get("store") or event["store"] for spec in event["inputs"])
    return {uri: open_store(uri, conf) for uri in uris}


def _store_delta(stores: dict[str, BlockStore], before: dict[str, dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for uri, store in stores.items():
        after = store.metrics.as_dict()
        for k, v in after.items():
            total[k] = total.get(k, 0) + v - before[uri].get(k, 0)
    return total


def _run(event: TaskEvent, started: float) -> TaskResult:
    cpu_started = time.process_time()  # one task at a time per process: the task's CPU
    stores = _stores(event)
    before = {uri: s.metrics.as_dict() for uri, s in stores.items()}
    conf = event.get("conf") or {}
    con = connection(int(conf.get(THREADS_CONF, DEFAULT_THREADS)))
    memory = task_memory(conf)
    apply(con, memory)
    set_time_zone(con, conf.get(TIME_ZONE_CONF))
    budget = parse_size(str(conf.get(BROADCAST_CACHE_CONF, "512m")))
    registered: list[str] = []
    streams: list[BlockStream] = []
    watch = None
    input_rows = 0
    python = None  # executors.python_udf, imported only when the task runs Python UDFs
    try:
        builtins.ensure(con, event["sql"])  # Python built-ins (XPath, AES...) the SQL calls
        if storage_files.mentions_remote(event["sql"]):  # s3:// data, cached blocks
            storage_files.register(con, conf)
        for spec in event["inputs"]:
            for sql in spec.get("sqls") or []:
                builtins.ensure(con, sql)
        if event.get("udfs") or any(s["kind"] == "python" for s in event["inputs"]):
            from executors import python_udf as python

            python.register(con, event.get("udfs") or [], conf)
        for spec in event["inputs"]:
            if spec["kind"] == "python":
                table = python.run_step(con, spec, conf)
            elif _streamed(spec, event["sql"], memory.stream_bytes):
                stream = _block_stream(stores[spec.get("store") or event["store"]], spec)
                streams.append(stream)
                table = stream.reader()
            else:
                table = load_input(stores[spec.get("store") or event["store"]], spec, budget)
                input_rows += table.num_rows
            con.register(spec["name"], table)
            registered.append(spec["name"])
        read_done = time.perf_counter()
        out_store = stores[event["output"].get("store") or event["store"]]
        if streams:  # a large input: record how much DuckDB spilled meanwhile
            with SpillWatch(memory.spill_dir) as watch:
                output = write_output(con, out_store, event)
        else:
            output = write_output(con, out_store, event)
    except duckdb.Error:
        failure = python.take_failure() if python is not None else None
        if failure is not None:
            raise failure from None  # the user's exception inside a UDF DuckDB called
        raise
    finally:
        for name in registered:
            con.unregister(name)
    input_rows += sum(s.rows for s in streams)
    timing = output.pop("timing", None) or {}
    done = time.perf_counter()
    return {
        "status": "ok",
        "output": output,
        "metrics": {
            "seconds": done - started,
            "cpu_seconds": time.process_time() - cpu_started,
            "read_seconds": read_done - started,
            "compute_write_seconds": done - read_done,
            "input_rows": input_rows,
            "output_rows": output.get("rows", 0),
            "output_bytes": output.get("bytes", 0),
            "store": _store_delta(stores, before),
            "memory_limit_bytes": memory.limit_bytes,
            "streamed_inputs": len(streams),
            "spill_peak_bytes": watch.peak if watch is not None else 0,
            **timing,
        },
    }


def _streamed(spec: Mapping[str, Any], sql: str, threshold: int) -> bool:
    """Stream a shuffle input that is large against the memory limit (``executors.memory``)."""
    return (
        spec["kind"] == "shuffle"
        and not spec.get("cache")
        and input_bytes(spec) > threshold
        and referenced_once(sql, spec["name"])
    )


def _block_stream(store: BlockStore, spec: Mapping[str, Any]) -> BlockStream:
    schema = schema_from_b64(spec["schema"])
    return BlockStream(
        lambda b: read_blocks(store, [b], schema, max_threads=1), spec["blocks"], schema
    )


def handler(event: TaskEvent, context: Any = None) -> TaskResult:
    """Run one task attempt. Never raises: failures come back as ``{"status": "error"}``."""
    started = time.perf_counter()
    try:
        with _lock:
            return _run(event, started)
    except Exception as exc:  # the driver decides what a failure means; see executors.errors
        return {
            "status": "error",
            "error": task_error(exc),
            "metrics": {"seconds": time.perf_counter() - started},
        }
