"""The same sort in DuckDB in-process, the single-node reference of the sort benchmark.

Reads the input Parquet files, sorts by ``key`` and writes one snappy Parquet file (one
file, because valsort checks global order across files in name order and DuckDB's
per-thread output would interleave ranges). DuckDB uses every core, as Spark's
``local[2]`` uses two here. Like ``job.py``, the last stdout line is
``SORTJOB {"seconds": ...}``: the statement alone, without interpreter start-up.

usage: python duckdb_job.py INPUT_DIR OUTPUT_DIR
"""

import json
import os
import sys
import time

import duckdb


def _literal(path: str) -> str:
    """A SQL string literal (the script stands alone, as job.py does: only duckdb needed)."""
    return "'" + path.replace("'", "''") + "'"


def main(src: str, dst: str) -> None:
    os.makedirs(dst, exist_ok=True)
    con = duckdb.connect()
    source = _literal(os.path.join(src, "*.parquet"))
    target = _literal(os.path.join(dst, "part-00000.snappy.parquet"))
    started = time.perf_counter()
    con.execute(
        f"COPY (SELECT key, payload FROM read_parquet({source}) ORDER BY key) "
        f"TO {target} (FORMAT parquet, COMPRESSION snappy)"
    )
    seconds = time.perf_counter() - started
    print("SORTJOB " + json.dumps({"seconds": seconds}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
