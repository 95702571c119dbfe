"""How many bytes a stage's tasks share out (what sizes its functions): the reduce sides'
shuffle bytes only -- a broadcast every task reads whole never counts, and a stage that
also scans files has no measured size."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from sparkless.physical.planner import (
    BroadcastRead,
    Fixed,
    Frag,
    PhysicalPlan,
    Shuffled,
    ShuffleDep,
    ShuffleRead,
)
from sparkless.scheduler.dag import DAGScheduler
from sparkless.scheduler.listener import ListenerBus
from sparkless.scheduler.state import RESULT
from storage import open_store

SCHEMA = pa.schema([pa.field("_c0", pa.int64())])


def _scheduler(tmp_path: Path, result_frag: Frag, result_group: str) -> DAGScheduler:
    scan = Fixed([Frag("SELECT 1 AS _c0"), Frag("SELECT 2 AS _c0")])
    shuffles = {
        0: ShuffleDep(0, [scan], {"kind": "hash", "keys": ["_c0"]}, 4, SCHEMA, "hash 4"),
        1: ShuffleDep(1, [Fixed([Frag("SELECT 3 AS _c0")])], {"kind": "single"}, 1, SCHEMA, "small side"),
    }
    group = (
        Shuffled(result_frag, [0], 4) if result_group == "shuffled" else Fixed([result_frag])
    )
    phys = PhysicalPlan([group], [], shuffles, [])
    uri = (tmp_path / "store").as_uri()
    dag = DAGScheduler(phys, platform=None, store=open_store(uri), store_uri=uri, conf={}, bus=ListenerBus())
    # what two map tasks of shuffle 0 and the broadcast's one task reported
    dag.state.stages[0].outputs = {0: {"partition_lengths": [10, 20, 0, 5]}, 1: {"partition_lengths": [1, 2, 3, 4]}}
    dag.state.stages[1].outputs = {0: {"partition_lengths": [1_000_000]}}
    return dag


def test_a_reduce_stage_counts_its_shuffle_but_not_the_broadcast_it_joins(tmp_path: Path) -> None:
    frag = Frag("SELECT * FROM in_0 JOIN in_1 USING (_c0)", [ShuffleRead(0, "in_0"), BroadcastRead(1, "in_1")])
    dag = _scheduler(tmp_path, frag, "shuffled")
    assert dag._input_bytes(RESULT) == 45


def test_a_scan_stage_joining_a_broadcast_has_no_measured_size(tmp_path: Path) -> None:
    frag = Frag("SELECT * FROM t JOIN in_1 USING (_c0)", [BroadcastRead(1, "in_1")])
    dag = _scheduler(tmp_path, frag, "fixed")
    assert dag._input_bytes(RESULT) is None
    assert dag._input_bytes(0) is None  # the map stage scans: unknown too
