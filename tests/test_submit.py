"""``sparkless submit`` end to end: the real embedded server, the unchanged example job.

Expected figures are computed here in plain Python from the job's own inputs, so the
test checks sparkless's answers, not a copy of its output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fruit_sales.py"
TIMEOUT = 600

PRODUCTS = {
    1: ("fruit", 0.5),
    2: ("fruit", 0.25),
    3: ("fruit", 4.25),
    4: ("vegetable", 0.75),
    5: ("vegetable", 1.5),
    6: ("herb", 2.0),
}


def _submit(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_REMOTE", "PYSPARK_SUBMIT_ARGS")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "sparkless", "submit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def _expected() -> tuple[list[tuple[str, int, int, float]], list[tuple[int, int]], float]:
    agg: dict[str, list] = defaultdict(lambda: [0, 0, 0.0])
    big: dict[int, int] = defaultdict(int)
    for i in range(100_000):
        pid, qty = i % 6 + 1, i % 7 + 1
        cat, price = PRODUCTS[pid]
        agg[cat][0] += 1
        agg[cat][1] += qty
        agg[cat][2] += qty * price
        if qty >= 5:
            big[pid] += 1
    rows = sorted(((c, *v) for c, v in agg.items()), key=lambda r: -r[3])
    return rows, sorted(big.items()), sum(r[3] for r in rows)


def test_submit_runs_the_example_unchanged() -> None:
    res = _submit(str(EXAMPLE))
    assert res.returncode == 0, res.stderr[-4000:]
    rows, big, total = _expected()
    out = res.stdout
    assert "| category|orders| units| revenue|" in out
    for cat, orders, units, revenue in rows:
        assert f"|{cat:>9}|{orders:>6}|{units:>6}|{revenue:>8}|" in out, out
    assert f"big orders per product: {big}" in out
    assert f"total revenue: {total}" in out
    # Progress goes to stderr (a pipe here: one line per stage), then the summary.
    assert "[Stage " in res.stderr
    last = res.stderr.rstrip().splitlines()[-1]
    assert last.startswith("sparkless: ") and " jobs, " in last and " tasks in " in last


def test_submit_passes_arguments_and_exit_code(tmp_path: Path) -> None:
    script = tmp_path / "exits_3.py"
    script.write_text(
        "import sys\n"
        "from pyspark.sql import SparkSession\n"
        "spark = SparkSession.builder.getOrCreate()\n"
        "print('count', spark.range(5).count(), 'args', sys.argv[1:])\n"
        "print('bye', file=sys.stderr)\n"
        "sys.exit(3)\n"
    )
    res = _submit("--conf", "spark.sql.shuffle.partitions=3", str(script), "a", "--b")
    assert res.returncode == 3, res.stderr[-4000:]
    assert "count 5 args ['a', '--b']" in res.stdout
    assert "bye" in res.stderr
