"""Memory stays bounded: a reduce partition larger than the function's DuckDB memory limit
spills to disk instead of failing (issue 7; ``executors/memory.py``).

The input goes to TWO range partitions (``spark.sql.shuffle.partitions=2``; AQE would
otherwise cut them at the advisory size), and ``spark.sparkless.task.memoryLimit`` is set below that
partition's size. The task then streams its shuffle input into DuckDB and DuckDB's sort
spills to ``spark.sparkless.task.spillDir``; the job must succeed and validate.
"""

from __future__ import annotations

from pathlib import Path

from storage.units import parse_size
from tpcds.sort import engines, gen, valsort

LIMIT = "64m"


def test_reduce_partition_larger_than_memory_limit_spills_and_validates(tmp_path: Path) -> None:
    m = gen.generate("150MB", tmp_path / "in", per_partition=250_000, workers=1)
    spill = tmp_path / "spill"
    conf = {
        "spark.sparkless.task.memoryLimit": LIMIT,
        "spark.sparkless.task.spillDir": str(spill),
        "spark.sql.adaptive.advisoryPartitionSizeInBytes": "1g",
        "spark.sql.shuffle.partitions": "2",
    }
    run = engines.run_sparkless(
        str(tmp_path / "in"), str(tmp_path / "out"), (tmp_path / "store").as_uri(), conf=conf
    )
    assert run.status == "ok", run.error
    (reduce,) = [s for s in run.stages if s.phase.startswith("reduce")]
    limit = parse_size(LIMIT)
    assert reduce.memory_limit_bytes == limit
    assert len(reduce.task_seconds) == 2  # two partitions hold every record...
    assert reduce.max_task_input_bytes > limit  # ...and one is larger than the limit
    assert reduce.streamed_tasks == 2  # so they were streamed, not held whole
    assert reduce.spill_peak_bytes > 0  # and DuckDB's sort spilled to disk
    v = valsort.validate(tmp_path / "out", m["records"], int(m["checksum"], 16), workers=1)
    assert v.ok, v.errors
    assert v.summary.records == m["records"]
