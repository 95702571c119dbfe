"""``python -m tpcds run``: every query on every engine, each answer checked.

Why the order of work: the reference answers (DuckDB, in-process, on the DuckDB text of
each query) are computed first, so the engines under test are judged against the same
answers; then each engine is started, measured over all queries, and stopped before the
next one starts, so two engines never compete for the machine's cores. A failing query
(an error, a wrong answer, a timeout) is recorded and the run goes on.

Status of one query on one engine: ``ok`` (the answer matches, see
:mod:`tpcds.compare`), ``wrong`` (it does not), ``error`` (the engine raised),
``timeout`` (no answer within ``--timeout``), ``noref`` (the reference itself failed,
so the answer cannot be judged).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tpcds import compare, queries
from tpcds.engines import DuckDBEngine, Engine, QueryTimeout

Rows = list[tuple[Any, ...]]


@dataclass
class Result:
    """One query on one engine."""

    engine: str
    query: str
    status: str
    seconds: float
    rows: int | None = None
    detail: str = ""


@dataclass
class Reference:
    rows: Rows | None
    seconds: float
    error: str = ""


@dataclass
class Run:
    """Everything a report needs."""

    scale: str
    data: str
    engines: list[str]
    queries: list[str]
    results: list[Result] = field(default_factory=list)
    started: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def short_error(exc: BaseException) -> str:
    """The first meaningful line of an engine error (what the grouped failure list shows)."""
    text = str(exc).strip() or type(exc).__name__
    first = text.splitlines()[0]
    return f"{type(exc).__name__}: {first}"[:400]


def judge(engine: str, query: str, seconds: float, rows: Rows,
          ref: Reference, spec: compare.OrderSpec) -> Result:
    """The status of an answer that came back (rule set in :mod:`tpcds.compare`)."""
    if ref.rows is None:
        return Result(engine, query, "noref", seconds, len(rows), ref.error)
    why = compare.diff(rows, ref.rows, spec)
    status = "ok" if why is None else "wrong"
    return Result(engine, query, status, seconds, len(rows), why or "")


def references(names: Sequence[str], data: str, timeout: float,
               log: bool = True) -> dict[str, Reference]:
    """DuckDB's answer to every query (its own dialect text), with its wall time."""
    duck = DuckDBEngine()
    duck.start(data)
    out: dict[str, Reference] = {}
    try:
        for name in names:
            t0 = time.perf_counter()
            try:
                rows = duck.run(queries.load(name, "duckdb"), timeout)
                out[name] = Reference(rows, time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 -- recorded, the run goes on
                out[name] = Reference(None, time.perf_counter() - t0, short_error(exc))
            if log:
                ref = out[name]
                state = f"{len(ref.rows)} rows" if ref.rows is not None else ref.error
                print(f"tpcds: reference {name:<4} {ref.seconds:8.3f}s  {state}", flush=True)
    finally:
        duck.stop()
    return out


def run_engine(engine: Engine, names: Sequence[str], data: str, timeout: float,
               refs: dict[str, Reference], log: bool = True) -> list[Result]:
    """Start ``engine``, run every query, judge each answer, stop it."""
    results: list[Result] = []
    if isinstance(engine, DuckDBEngine):
        # The yardstick *is* the reference run: report its times rather than run twice.
        for name in names:
            ref = refs[name]
            status = "ok" if ref.rows is not None else "error"
            results.append(Result("duckdb", name, status, ref.seconds,
                                  None if ref.rows is None else len(ref.rows), ref.error))
        return results
    t0 = time.perf_counter()
    try:
        engine.start(data)
    except Exception as exc:  # noqa: BLE001 -- the engine is reported as down
        why = f"engine did not start: {short_error(exc)}"
        return [Result(engine.name, n, "error", 0.0, None, why) for n in names]
    if log:
        print(f"tpcds: {engine.name} up in {time.perf_counter() - t0:.1f}s", flush=True)
    try:
        for name in names:
            results.append(_one(engine, name, timeout, refs[name]))
            if log:
                r = results[-1]
                print(f"tpcds: {engine.name:<9} {name:<4} {r.status:<7} {r.seconds:8.3f}s  "
                      f"{r.detail[:160]}", flush=True)
    finally:
        engine.stop()
    return results


def _one(engine: Engine, name: str, timeout: float, ref: Reference) -> Result:
    sql = queries.load(name)
    spec = compare.order_spec(sql)
    t0 = time.perf_counter()
    try:
        rows = engine.run(sql, timeout)
    except QueryTimeout as exc:
        return Result(engine.name, name, "timeout", time.perf_counter() - t0, None, str(exc))
    except Exception as exc:  # noqa: BLE001 -- one query's failure never stops the run
        return Result(engine.name, name, "error", time.perf_counter() - t0, None,
                      short_error(exc))
    return judge(engine.name, name, time.perf_counter() - t0, rows, ref, spec)


def run(engines: Sequence[Engine], names: Sequence[str], data: str, scale: str,
        timeout: float, log: bool = True) -> Run:
    """The whole benchmark: references, then each engine in turn."""
    report = Run(scale=scale, data=data, engines=[e.name for e in engines],
                 queries=list(names), started=time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    refs = references(names, data, timeout, log)
    for engine in engines:
        report.results.extend(run_engine(engine, names, data, timeout, refs, log))
    return report
