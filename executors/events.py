"""The contract between the driver and a function: one JSON-serialisable event in,
one JSON-serialisable result out.

It is deliberately plain data (TypedDicts, no classes to unpickle) so the same
event travels through a local pipe, the Lambda Invoke API, or the store.

Event (a task attempt)::

    {
      "job_id": "j-3f2a",            # all keys the task writes live under this prefix
      "stage_id": 2, "partition": 5, "attempt": 0,
      "store": "file:///tmp/sparkless/store",   # URI of the BlockStore to use
      "sql": "SELECT ... FROM input_0 JOIN input_1 ...",   # DuckDB SQL over the inputs
      "inputs": [Input, ...],        # each registered in DuckDB under its "name"
      "output": Output,
      "conf": {"spark.sql.ansi.enabled": "true", ...}      # the few settings a task needs
    }

Input kinds:
  - ``{"name": "input_0", "kind": "shuffle", "schema": <base64 Arrow IPC schema>,
       "blocks": [{"key": k, "offset": o, "length": n}, ...]}``
       – one reduce partition: a slice of every map output object; zero-length slices are skipped.
  - ``{"name": "input_1", "kind": "block", "key": k, "schema": <base64 schema>}``
       – a whole object holding an Arrow IPC stream (local data, broadcast).

Output kinds:
  - ``{"kind": "shuffle", "shuffle_id": 3, "map_id": 0, "num_partitions": 8,
       "partitioning": {"kind": "hash", "keys": ["_c1", "_c4"]} | {"kind": "single"}
                     | {"kind": "round_robin"}}``
  - ``{"kind": "result"}`` – the rows, as one Arrow IPC stream object.
  - ``{"kind": "files", "format": "parquet"|"csv"|"json", "path": "/abs/staging/dir",
       "partition_by": ["col"], "options": {...}, "file_prefix": "part-00005-<uuid>"}``

Result::

    {"status": "ok", "output": {"key": k, "partition_lengths": [..], "rows": n, "bytes": b,
                                 "files": [...]},
     "metrics": {"seconds": s, "input_rows": n, "store": {...}}}
    {"status": "error", "error": TaskError}

TaskError: ``{"exception": "org.apache.spark.SparkArithmeticException",
"error_class": "DIVIDE_BY_ZERO", "message": "...", "sql_state": "22012", "traceback": "..."}``
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class BlockSlice(TypedDict):
    key: str
    offset: int
    length: int


class ShuffleInput(TypedDict):
    name: str
    kind: Literal["shuffle"]
    schema: str
    blocks: list[BlockSlice]


class BlockInput(TypedDict):
    name: str
    kind: Literal["block"]
    key: str
    schema: str


class TaskError(TypedDict):
    exception: str
    error_class: NotRequired[str]
    message: str
    sql_state: NotRequired[str]
    traceback: NotRequired[str]


class TaskEvent(TypedDict):
    job_id: str
    stage_id: int
    partition: int
    attempt: int
    store: str
    sql: str
    inputs: list[dict[str, Any]]
    output: dict[str, Any]
    conf: dict[str, str]


class TaskResult(TypedDict):
    status: Literal["ok", "error"]
    output: NotRequired[dict[str, Any]]
    error: NotRequired[TaskError]
    metrics: NotRequired[dict[str, Any]]


def attempt_prefix(event: TaskEvent) -> str:
    """Where one task attempt writes: only the attempt the driver accepts is ever read."""
    return (
        f"{event['job_id']}/stage-{event['stage_id']}/part-{event['partition']:05d}"
        f"/attempt-{event['attempt']}"
    )
