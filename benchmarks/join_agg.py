"""Join + aggregation on ~10 M rows: sparkless vs Apache Spark local[2], DuckDB as yardstick.

    .venv/bin/python benchmarks/join_agg.py [--rows 10000000] [--runs 3] [--conf k=v ...]

Generates a fact table (``--rows`` rows, 8 Parquet files) and a dimension table
(``--dim-rows``) with DuckDB, then runs one PySpark job -- read Parquet, join, groupBy,
agg, orderBy, collect -- on sparkless (an embedded ``SparkConnectServer``) and on
Apache Spark classic ``local[2]``, each in its own interpreter (a classic and a Connect
session in one process can conflict), and the same query in DuckDB in-process. It
checks that all three answers agree and prints times and ratios; results also go to
``benchmarks/results/``. Times are wall clock of ``collect()`` on an already started
session; "first" is the first run (cold caches, JIT), "best" the fastest of ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FACT_FILES = 8

QUERY_SQL = """
SELECT d.category, count(*) AS orders, sum(f.quantity) AS units,
       sum(f.amount_cents) AS cents, avg(f.quantity) AS avg_qty,
       max(f.amount_cents) AS max_cents
FROM read_parquet('{data}/fact/*.parquet') f
JOIN read_parquet('{data}/dim/*.parquet') d ON f.product_id = d.product_id
GROUP BY d.category ORDER BY d.category
"""


def generate(data: Path, rows: int, dim_rows: int) -> None:
    """Deterministic data: every engine reads the very same files."""
    import duckdb

    (data / "fact").mkdir(parents=True, exist_ok=True)
    (data / "dim").mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    per_file = math.ceil(rows / FACT_FILES)
    for i in range(FACT_FILES):
        lo, hi = i * per_file, min(rows, (i + 1) * per_file)
        con.execute(f"""
            COPY (SELECT r AS order_id,
                         ((r * 7919) % {dim_rows})::INTEGER AS product_id,
                         (r % 10 + 1)::INTEGER AS quantity,
                         ((r * 31) % 100000)::BIGINT AS amount_cents
                  FROM range({lo}, {hi}) t(r))
            TO '{data}/fact/part-{i:05d}.parquet' (FORMAT parquet)""")
    con.execute(f"""
        COPY (SELECT r::INTEGER AS product_id,
                     'category_' || lpad((r % 50)::VARCHAR, 2, '0') AS category,
                     'brand_' || (r % 1000)::VARCHAR AS brand
              FROM range({dim_rows}) t(r))
        TO '{data}/dim/part-00000.parquet' (FORMAT parquet)""")


def spark_job(spark: Any, data: str) -> list[tuple]:
    """The PySpark job, identical for both Spark engines."""
    from pyspark.sql import functions as F

    fact = spark.read.parquet(f"{data}/fact")
    dim = spark.read.parquet(f"{data}/dim")
    rows = (
        fact.join(dim, "product_id")
        .groupBy("category")
        .agg(
            F.count("*").alias("orders"),
            F.sum("quantity").alias("units"),
            F.sum("amount_cents").alias("cents"),
            F.avg("quantity").alias("avg_qty"),
            F.max("amount_cents").alias("max_cents"),
        )
        .orderBy("category")
        .collect()
    )
    return [tuple(r) for r in rows]


def timed_runs(fn: Any, runs: int) -> tuple[list[float], list[tuple]]:
    times, answer = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        answer = fn()
        times.append(time.perf_counter() - t0)
    return times, answer


def worker(engine: str, data: str, runs: int, conf: dict[str, str]) -> dict:
    """Runs in a child interpreter: start the engine, run the job ``runs`` times."""
    from pyspark.sql import SparkSession

    t0 = time.perf_counter()
    server = None
    if engine == "sparkless":
        from sparkless.connect.server import SparkConnectServer

        server = SparkConnectServer(host="127.0.0.1", port=0, token=None, conf=conf, store=None)
        port = server.start()
        spark = SparkSession.builder.remote(f"sc://127.0.0.1:{port}").getOrCreate()
    else:
        builder = SparkSession.builder.master("local[2]").appName("join_agg")
        builder = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", "4g")
        )
        for k, v in conf.items():
            builder = builder.config(k, v)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
    startup = time.perf_counter() - t0
    times, answer = timed_runs(lambda: spark_job(spark, data), runs)
    spark.stop()
    if server is not None:
        server.stop(grace=1.0)
    return {"startup": startup, "times": times, "answer": answer}


def run_worker(engine: str, data: Path, runs: int, conf: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_REMOTE", "PYSPARK_SUBMIT_ARGS")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # quiets Spark's hostname warning
    cmd = [sys.executable, __file__, "--worker", engine, "--data", str(data), "--runs", str(runs)]
    for k, v in conf.items():
        cmd += ["--conf", f"{k}={v}"]
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_duckdb(data: Path, runs: int) -> dict:
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    startup = time.perf_counter() - t0
    sql = QUERY_SQL.format(data=data)
    times, answer = timed_runs(lambda: [tuple(r) for r in con.execute(sql).fetchall()], runs)
    return {"startup": startup, "times": times, "answer": answer}


def same_answer(a: list, b: list) -> bool:
    """Exact for integers and strings, 1e-9 relative for floats (summation order differs)."""
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b, strict=True):
        if len(ra) != len(rb):
            return False
        for x, y in zip(ra, rb, strict=True):
            if isinstance(x, float) or isinstance(y, float):
                if not math.isclose(x, y, rel_tol=1e-9):
                    return False
            elif x != y:
                return False
    return True


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version(), "cpus": str(os.cpu_count())}
    for dist in ("sparkless-faas", "pyspark", "duckdb"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "?"
    return out


def report(rows: int, dim_rows: int, runs: int, results: dict[str, dict], agree: bool) -> str:
    v = versions()
    names = {
        "sparkless": f"sparkless {v['sparkless-faas']} (local functions)",
        "spark": f"Apache Spark {v['pyspark']} local[2]",
        "duckdb": f"DuckDB {v['duckdb']} in-process",
    }
    lines = [
        f"join + aggregation: {rows:,} fact rows x {dim_rows:,} dimension rows, "
        f"{runs} run(s), {v['cpus']} CPUs, Python {v['python']}",
        f"{'engine':<40}{'best s':>9}{'first s':>9}{'startup s':>11}",
    ]
    for key, res in results.items():
        t = res["times"]
        lines.append(f"{names[key]:<40}{min(t):>9.2f}{t[0]:>9.2f}{res['startup']:>11.2f}")
    best = {k: min(r["times"]) for k, r in results.items()}
    if "sparkless" in best:
        for other, label in (("spark", "Spark"), ("duckdb", "DuckDB")):
            if other in best:
                lines.append(
                    f"sparkless / {label} (best): {best['sparkless'] / best[other]:.2f}x   "
                    f"(first: {results['sparkless']['times'][0] / results[other]['times'][0]:.2f}x)"
                )
    lines.append(
        f"answers agree: {'yes' if agree else 'NO'} "
        f"({len(next(iter(results.values()))['answer'])} groups)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000, help="fact table rows")
    ap.add_argument("--dim-rows", type=int, default=100_000, help="dimension table rows")
    ap.add_argument("--runs", type=int, default=3, help="runs per engine")
    ap.add_argument("--engines", default="sparkless,spark,duckdb", help="comma-separated subset")
    ap.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Spark conf for both Spark engines",
    )
    ap.add_argument("--data", help="reuse/generate data here instead of a temp dir")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    conf = dict(kv.split("=", 1) for kv in args.conf)

    if args.worker:
        print(json.dumps(worker(args.worker, args.data, args.runs, conf)), flush=True)
        return 0

    with tempfile.TemporaryDirectory(prefix="sparkless-bench-") as tmp:
        data = Path(args.data) if args.data else Path(tmp)
        if not (data / "fact").is_dir():
            t0 = time.perf_counter()
            generate(data, args.rows, args.dim_rows)
            print(
                f"generated {args.rows:,} + {args.dim_rows:,} rows in "
                f"{time.perf_counter() - t0:.1f} s under {data}",
                file=sys.stderr,
            )
        results: dict[str, dict] = {}
        for engine in args.engines.split(","):
            print(f"running {engine} ...", file=sys.stderr, flush=True)
            if engine == "duckdb":
                results[engine] = run_duckdb(data, args.runs)
            else:
                results[engine] = run_worker(engine, data, args.runs, conf)

    answers = [r["answer"] for r in results.values()]
    agree = all(same_answer(answers[0], a) for a in answers[1:])
    text = report(args.rows, args.dim_rows, args.runs, results, agree)
    print(text)
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    record = {
        "rows": args.rows,
        "dim_rows": args.dim_rows,
        "runs": args.runs,
        "conf": conf,
        "versions": versions(),
        "agree": agree,
        "report": text,
        "results": {k: {"startup": r["startup"], "times": r["times"]} for k, r in results.items()},
    }
    (out_dir / f"join_agg-{stamp}.json").write_text(json.dumps(record, indent=2) + "\n")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
