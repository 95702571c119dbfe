"""Generation at SF 0.01 and a small run against an embedded sparkless server.

The queries here are ones sparkless answers today; each is judged against DuckDB's
answer to the DuckDB text of the same query, on the same Parquet.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tpcds import compare, engines, queries, report, runner
from tpcds.gen import TABLES

REPO = Path(__file__).resolve().parents[2]
E2E_QUERIES = [
    "q1",  # correlated scalar subquery
    "q2", "q7", "q26", "q27", "q40", "q43", "q52", "q99",
    "q5",  # ROLLUP over a UNION ALL of three channels
    "q6",  # correlated scalar subquery, HAVING
    "q8",  # INTERSECT, IN subquery
    "q9",  # 15 uncorrelated scalar subqueries in CASE
    "q10",  # EXISTS, and EXISTS OR EXISTS (existence joins)
    "q12",  # window over an aggregate
    "q16",  # EXISTS with a non-equi correlation, NOT EXISTS
    "q36",  # ROLLUP with grouping() inside a window
    "q44",  # scalar subquery in HAVING, self-joins, ranks
    "q87",  # EXCEPT
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("tpcds") / "sf0.01"
    subprocess.run([sys.executable, "-m", "tpcds", "gen", "--scale", "0.01", "--out", str(out)],
                   cwd=REPO, check=True)
    yield out


def test_gen_writes_24_tables_with_rows(data: Path) -> None:
    con = duckdb.connect()
    assert len(TABLES) == 24
    for table in TABLES:
        files = list((data / table).glob("*.parquet"))
        assert files, table
        n = con.execute(f"SELECT count(*) FROM read_parquet('{data / table}/*.parquet')").fetchone()
        assert n and n[0] > 0, table
    sales = con.execute(f"SELECT count(*) FROM '{data}/store_sales/*.parquet'").fetchone()
    assert sales == (28810,)  # dsdgen is deterministic: SF 0.01 has 28,810 store_sales rows


@pytest.fixture(scope="module")
def run(data: Path) -> runner.Run:
    return runner.run([engines.SparklessEngine(), engines.DuckDBEngine()], E2E_QUERIES,
                      str(data), "0.01", timeout=90, log=False)


def test_sparkless_answers_are_correct(run: runner.Run) -> None:
    results = {r.query: r for r in run.results if r.engine == "sparkless"}
    bad = {q: f"{r.status}: {r.detail}" for q, r in results.items() if r.status != "ok"}
    assert not bad
    duck = {r.query: r for r in run.results if r.engine == "duckdb"}
    assert all(results[q].rows == duck[q].rows for q in E2E_QUERIES)
    assert sum(duck[q].rows or 0 for q in E2E_QUERIES) > 50  # answers with substance


def test_report_says_ok(run: runner.Run, tmp_path: Path) -> None:
    md = report.write(run, tmp_path).read_text()
    for q in E2E_QUERIES:
        assert f"| {q} | " in md
    assert f"| sparkless | {len(E2E_QUERIES)}/{len(E2E_QUERIES)} |" in md
    assert (tmp_path / "report.png").stat().st_size > 1000
    assert (tmp_path / "results.json").exists()


def test_the_runner_catches_an_altered_answer(data: Path) -> None:
    refs = runner.references(["q7"], str(data), 60, log=False)
    rows = list(refs["q7"].rows or [])
    assert rows
    spec = compare.order_spec(queries.load("q7"))
    assert runner.judge("x", "q7", 0.1, rows, refs["q7"], spec).status == "ok"
    first = list(rows[0])
    first[1] = Decimal(str(first[1])) + 1  # one average off by one
    altered = [tuple(first), *rows[1:]]
    verdict = runner.judge("x", "q7", 0.1, altered, refs["q7"], spec)
    assert verdict.status == "wrong" and "expected" in verdict.detail
    assert runner.judge("x", "q7", 0.1, rows[:-1], refs["q7"], spec).status == "wrong"
