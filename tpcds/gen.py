"""``python -m tpcds gen``: the 24 TPC-DS tables as Parquet, one directory per table.

Why the shape: DuckDB's ``dsdgen`` (extension 1.5.5) takes only ``sf``, ``catalog``,
``schema``, ``suffix``, ``keys`` and ``overwrite`` -- no ``step``/``children`` -- so the
rows cannot be generated in separate chunks. The generator runs once into a scratch
DuckDB file (DuckDB parallelises it internally); the export is then per table, each
``COPY`` writing Parquet with all DuckDB threads and splitting large tables into several
files (~``FILE_MB`` each) so that readers can split scans by file. One progress line is
printed per table.

``--out`` is a local path or ``s3://bucket/prefix``: for S3 the files are written locally
first and uploaded with boto3 (honouring ``AWS_ENDPOINT_URL``), because DuckDB's httpfs
extension cannot be installed offline.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tpcds import dsdgen, storage

TABLES = (
    "call_center", "catalog_page", "catalog_returns", "catalog_sales", "customer",
    "customer_address", "customer_demographics", "date_dim", "household_demographics",
    "income_band", "inventory", "item", "promotion", "reason", "ship_mode", "store",
    "store_returns", "store_sales", "time_dim", "warehouse", "web_page", "web_returns",
    "web_sales", "web_site",
)
FILE_MB = 128

_CHILD = """
import os, sys, time
sf, out, scratch, file_mb = float(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
con = connect(scratch)
t0 = time.time()
con.execute(f"CALL dsdgen(sf={sf})")
print(f"tpcds: generated SF {sf} in {time.time() - t0:.1f}s", flush=True)
tables = [r[0] for r in con.execute(
    "SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall()]
for t in tables:
    t1 = time.time()
    d = os.path.join(out, t)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    n = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
    con.execute(
        f"COPY {t} TO '{d}' (FORMAT parquet, COMPRESSION zstd, FILE_SIZE_BYTES '{file_mb}MB', "
        f"FILENAME_PATTERN 'part-{{i}}', OVERWRITE_OR_IGNORE true)")
    files = len(os.listdir(d))
    print(f"tpcds: {t:<24} {n:>12,} rows  {files:>3} file(s)  {time.time() - t1:6.1f}s",
          flush=True)
"""


def generate(scale: float, out: str) -> None:
    """Write every table of scale factor ``scale`` under ``out`` (local path or s3:// URI)."""
    if storage.is_s3(out):
        with tempfile.TemporaryDirectory(prefix="tpcds-gen-") as tmp:
            _generate_local(scale, Path(tmp) / "data")
            storage.upload_dir(Path(tmp) / "data", out)
        return
    _generate_local(scale, Path(out))


def _generate_local(scale: float, out: Path) -> None:
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tpcds-scratch-") as tmp:
        scratch = str(Path(tmp) / "gen.duckdb")
        dsdgen.run_script(_CHILD, str(scale), str(out), scratch, str(FILE_MB))
    missing = [t for t in TABLES if not any((out / t).glob("*.parquet"))]
    if missing:
        raise RuntimeError(f"generator wrote no files for: {', '.join(missing)}")
