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


_REUSE_PROBE = """
import resource, sys
import duckdb
from executors.memory import apply, task_memory
con = duckdb.connect()
if sys.argv[1] == "apply":
    apply(con, task_memory({"spark.sparkless.task.memoryLimit": "512m"}))
def touch():
    b = bytearray(96 << 20)  # over glibc's 32 MB mmap ceiling: mmap'd unless retained
    b[::4096] = b"x" * len(b[::4096])
    del b
touch()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
touch()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_task_memory_keeps_freed_malloc_memory_for_the_next_batch() -> None:
    """A large buffer freed and allocated again is served from retained memory, not fresh
    pages (on this VM each first touch costs ~1.2 ms/MB); glibc only."""
    import platform
    import subprocess
    import sys

    import pytest

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt thresholds are glibc's")
    faults = {
        mode: int(subprocess.run(
            [sys.executable, "-c", _REUSE_PROBE, mode], capture_output=True, text=True,
            check=True, cwd=Path(__file__).parents[2],
        ).stdout)
        for mode in ("default", "apply")
    }
    pages = (96 << 20) // 4096
    assert faults["default"] > pages // 2  # glibc unmapped it: every page faults again
    assert faults["apply"] < pages // 10, faults
