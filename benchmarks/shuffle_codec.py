"""Does LZ4 pay for shuffle on the local store? Write + read ~50 MB per table shape.

    /work/main/.venv/bin/python benchmarks/shuffle_codec.py [--mb 50] [--partitions 8 200]

Write = group by partition id + encode + put of one map output object; read = every
reduce partition fetched and decoded through ``read_blocks``. Best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from shuffle import MapOutput, read_blocks, write_map_output
from storage.file import LocalDirStore

CODECS = (None, "lz4", "zstd")


def random_numbers(rows: int, rng: np.random.Generator) -> pa.Table:
    """Worst case for a codec: high-entropy numbers."""
    cols = {f"i{j}": rng.integers(-(2**62), 2**62, rows) for j in range(3)}
    cols |= {f"f{j}": rng.random(rows) for j in range(3)}
    return pa.table(cols)


def tpcds_like(rows: int, rng: np.random.Generator) -> pa.Table:
    """A store_sales-like fact table: surrogate keys, prices, dates, a few strings, nulls."""
    nulls = rng.random(rows) < 0.04
    price = pa.array(rng.integers(100, 2_000_000, rows) / 100).cast(pa.decimal128(7, 2))
    return pa.table(
        {
            "ss_item_sk": pa.array(rng.integers(1, 18_000, rows, dtype=np.int32), mask=nulls),
            "ss_customer_sk": pa.array(rng.integers(1, 100_000, rows, dtype=np.int32)),
            "ss_store_sk": pa.array(rng.integers(1, 12, rows, dtype=np.int32)),
            "ss_sold_date": pa.array(rng.integers(10_000, 12_000, rows, dtype=np.int32)).cast(
                pa.date32()
            ),
            "ss_quantity": pa.array(rng.integers(1, 100, rows, dtype=np.int32), mask=nulls),
            "ss_sales_price": price,
            "ss_net_profit": pa.array(rng.normal(0, 500, rows).round(2)),
            "s_state": pa.array(
                np.array(["TN", "GA", "AL", "SD", "OH", "TX"])[rng.integers(0, 6, rows)]
            ),
            "i_category": pa.array(
                np.array(["Books", "Music", "Shoes", "Home", "Sports"])[rng.integers(0, 5, rows)]
            ),
        }
    )


def sorted_low_card(rows: int, rng: np.random.Generator) -> pa.Table:
    """Best case: sorted keys and few distinct values (e.g. output of a sort or a group-by)."""
    return pa.table(
        {
            "k": np.sort(rng.integers(0, rows // 10, rows)),
            "bucket": rng.integers(0, 16, rows),
            "flag": np.array(["Y", "N"])[rng.integers(0, 2, rows)],
            "amount": rng.integers(0, 1000, rows).astype(np.float64),
        }
    )


SHAPES: dict[str, Callable[[int, np.random.Generator], pa.Table]] = {
    "random nums": random_numbers,
    "tpcds-like": tpcds_like,
    "sorted/low-card": sorted_low_card,
}


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(
    store: LocalDirStore, table: pa.Table, ids: pa.Array, n: int, codec: str | None, repeat: int
) -> tuple[MapOutput, float, float]:
    """(map output, best write seconds, best read-all-partitions seconds)."""
    key = f"bench-{codec}"
    outs: list[MapOutput] = []

    def write() -> None:
        store.delete_prefix(key)  # every write creates a fresh file, as a map task does
        outs.append(write_map_output(store, key, table, ids, n, codec))

    w = best(write, repeat)
    blocks = [[outs[-1].block(r)] for r in range(n)]
    r = best(lambda: [read_blocks(store, b, table.schema) for b in blocks], repeat)
    return outs[-1], w, r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--partitions", type=int, nargs="+", default=[8, 200])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(42)
    print(
        f"{'shape':16} {'R':>4} {'codec':5} {'MB in':>6} {'MB out':>6} {'write s':>7} {'read s':>6}"
    )
    with tempfile.TemporaryDirectory(prefix="shuffle-codec-") as tmp:
        store = LocalDirStore.from_uri(f"file://{tmp}")
        for name, make in SHAPES.items():
            probe = make(10_000, rng)
            rows = int(args.mb * 1e6 / (probe.nbytes / probe.num_rows))
            table = make(rows, rng)
            for n in args.partitions:
                ids = pa.array(rng.integers(0, n, rows, dtype=np.int32))
                for codec in CODECS:
                    out, w, r = measure(store, table, ids, n, codec, args.repeat)
                    print(
                        f"{name if codec is None and n == args.partitions[0] else '':16} "
                        f"{n if codec is None else '':>4} {codec or 'none':5} "
                        f"{table.nbytes / 1e6:6.1f} {out.bytes / 1e6:6.1f} {w:7.2f} {r:6.2f}"
                    )
            store.delete_prefix("")


if __name__ == "__main__":
    main()
