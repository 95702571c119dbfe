"""The PySpark doctest runner's bookkeeping (benchmarks/pyspark_doctests.py), not a pass rate.

It runs the runner against the session's sparkless server over two modules: PySpark's
``window`` doctests (5 docstrings, 22 statements: the counts must add up whatever passes)
and the ``sample_*`` docstrings below, whose outcomes we control -- one passes, one has
wrong output, one fails with an AnalysisException on any engine, one hangs and must be
cut by the watchdog without losing the examples after it.
"""

from __future__ import annotations

import doctest
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
HERE = "tests.test_doctest_runner"


def _load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pyspark_doctests", REPO / "benchmarks" / "pyspark_doctests.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up by name
    spec.loader.exec_module(mod)
    return mod


runner = _load_runner()


# Examples fed to the runner (run by it in a worker, never by pytest).

def sample_passes() -> None:
    """
    >>> spark.range(3).count()
    3
    """


def sample_wrong_output() -> None:
    """
    >>> spark.range(3).count()
    4
    """


def sample_analysis_error() -> None:
    """
    >>> spark.sql("SELECT no_such_column").collect()
    []
    >>> 1 + 1
    2
    """


def sample_hangs() -> None:
    """
    >>> import time; time.sleep(600)
    """


def test_cause_clustering() -> None:
    assert runner.cause_of("AnalysisException: [UNRESOLVED_COLUMN.WITHOUT_SUGGESTION] x") == (
        "AnalysisException [UNRESOLVED_COLUMN.WITHOUT_SUGGESTION]", "x")
    assert runner.cause_of("SparkException: BinderException: Binder Error: col")[0] == (
        "SparkException: BinderException")
    assert runner.cause_of("wrong output (values): expected '4', got '3'")[0] == (
        "wrong output (values)")
    table = doctest.Example("df.show()", "+------+\n|ABS(x)|\n+------+\n|     1|\n+------+\n")
    got = "+------+\n|abs(x)|\n+------+\n|     1|\n+------+\n"
    assert runner.describe_mismatch(table, got) == (
        "wrong output (column names): expected 'ABS(x)', got 'abs(x)'")


def test_runner_bookkeeping(sparkless_server, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    out = tmp_path / "doctests.json"
    rc = runner.main(["--engine", "sparkless", "--remote", sparkless_server.url, "--modules",
                      "window", HERE, "--timeout", "10", "--jobs", "2", "--out", str(out),
                      "--logs", str(tmp_path / "logs")])
    assert rc == 0
    doc = json.loads(out.read_text())
    engine = doc["engines"]["sparkless"]
    by_name = {o["name"]: o for o in engine["outcomes"]}

    window = engine["modules"]["pyspark.sql.connect.window"]
    assert (window["total"], window["statements"]) == (5, 22)
    mine = engine["modules"][HERE]
    assert mine["total"] == 4 and mine["passed"] == 1
    for module, counts in engine["modules"].items():
        outs = [o for o in engine["outcomes"] if o["module"] == module]
        assert counts["passed"] == sum(o["passed"] for o in outs) and counts["total"] == len(outs)
        assert counts["statements_passed"] <= counts["statements"]
    assert sum(c["total"] for c in engine["modules"].values()) == len(by_name) == 9
    assert all(bool(o["error"]) != o["passed"] for o in by_name.values())

    assert by_name[f"{HERE}.sample_passes"]["passed"]
    wrong = by_name[f"{HERE}.sample_wrong_output"]
    assert wrong["error"] == "wrong output (values): expected '4', got '3'"
    err = by_name[f"{HERE}.sample_analysis_error"]
    assert not err["passed"] and err["failed_statements"] == [0] and err["statements"] == 2
    assert "AnalysisException" in err["error"] and err["source"].startswith("spark.sql(")
    assert by_name[f"{HERE}.sample_hangs"]["error"].startswith("Timeout")
