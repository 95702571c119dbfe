"""Spark's sampling with replacement, draw for draw: ``sparkless_poisson_count``.

Spark's SampleExec samples with replacement through ``PartitionwiseSampledRDD``: partition
``i`` seeds a ``PoissonSampler`` with the ``i``-th ``nextLong()`` of ``java.util.Random(seed)``
and each row is repeated ``sample()`` times, in scan order (``executors/spark_random.py``
has the generators). Row ``r`` of a task (1-based) gets the ``r``-th count of its stream.
"""

from __future__ import annotations

import pyarrow as pa

from executors import builtins

_streams: dict[tuple, list] = {}  # (seed, partition, mean) -> [sampler, rows drawn]


def partition_seed(seed: int, partition: int) -> int:
    """The seed PartitionwiseSampledRDD gives partition ``partition``."""
    from executors.spark_random import JavaRandom, _signed64

    rng = JavaRandom(seed)
    value = 0
    for _ in range(partition + 1):
        hi, lo = rng.next_bits(32), rng.next_bits(32)
        value = _signed64((hi << 32) + lo)
    return value


@builtins.builtin("poisson_count", ["BIGINT", "INTEGER", "BIGINT", "DOUBLE"], "INTEGER",
                  kind="arrow", special_nulls=True, side_effects=True)
def poisson_count(seed: pa.Array, pid: pa.Array, row: pa.Array, mean: pa.Array) -> pa.Array:
    from executors.spark_random import PoissonSampler

    out = []
    for s, p, i, m in zip(seed.to_pylist(), pid.to_pylist(), row.to_pylist(), mean.to_pylist(),
                          strict=True):
        key = (s, p, m)
        state = _streams.get(key)
        if state is None or state[1] >= i:  # a new task (or an earlier row): start over
            state = _streams[key] = [PoissonSampler(m, partition_seed(s, p)), 0]
        value = 0
        while state[1] < i:
            value = state[0].sample()
            state[1] += 1
        out.append(value)
    return pa.array(out, pa.int32())
