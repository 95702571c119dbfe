"""Ask DuckDB what type an expression has.

The planner renders Spark semantics into DuckDB SQL; rather than re-implementing
DuckDB's type rules, it asks DuckDB (``DESCRIBE``, nothing executed) what a rendered
expression yields over inputs of known types, and maps that back to a Spark type.
Binder errors come back as AnalysisException, which is what Spark would raise.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass

import duckdb
from pyspark.sql.types import DataType

from executors import builtins
from executors.python_udf import with_arity
from sparkless.errors import AnalysisException
from sparkless.plan.ir import Attribute
from sparkless.plan.types import duckdb_type_sql, spark_type_from_duckdb


@dataclass
class _Connection:
    con: duckdb.DuckDBPyConnection
    functions: set[str]  # the Python UDF stubs registered on it


class TypeOracle:
    def __init__(self) -> None:
        self._local = threading.local()
        self._spare: list[_Connection] = []  # connections of threads that have ended
        self._described: dict[str, list[tuple[str, duckdb.DuckDBPyType]]] = {}
        self._functions: dict[str, tuple[list[str], str]] = {}  # Python UDF stubs

    def add_function(self, name: str, params: list[str], returns: str) -> None:
        """A function DuckDB can bind (never run here): a Python UDF's signature."""
        self._functions.setdefault(name, (params, returns))

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """This thread's connection (a DuckDB connection is not for concurrent use).

        Opening one costs ~18 ms, and every execution runs on a thread of its own, so a
        thread that ends hands its connection back (with the functions registered on it)
        for the next thread to take instead of opening another.
        """
        entry = getattr(self._local, "entry", None)
        if entry is None:
            try:
                entry = self._spare.pop()
            except IndexError:
                con = duckdb.connect()
                con.execute("SET threads=1")
                entry = _Connection(con, set())
            self._local.entry = entry
            weakref.finalize(threading.current_thread(), self._spare.append, entry)
        con, functions = entry.con, entry.functions
        if len(functions) != len(self._functions):
            for name, (params, returns) in list(self._functions.items()):
                if name not in functions:
                    stub = with_arity(_never_called, len(params))
                    con.create_function(name, stub, params, returns, type="arrow",
                                        null_handling="special", side_effects=True)
                    functions.add(name)
        return con

    @staticmethod
    def scope_sql(attrs: list[Attribute], for_sql: str | None = None) -> str:
        """A one-row relation with ``attrs`` as typed NULL columns, to bind expressions over.

        With ``for_sql``, only the attributes that text names: the bound text is then the
        same wherever the expression appears (a better hit rate for ``describe``'s memo)
        and DuckDB binds fewer columns. Kept whole where a star could expand the scope.
        """
        if for_sql is not None and "*" not in _HARMLESS_STARS.sub("", for_sql):
            named = set(_ID.findall(for_sql))
            attrs = [a for a in attrs if str(a.id) in named]
        if not attrs:
            return "(SELECT 1 AS __dummy) AS __scope"
        cols = ", ".join(f"CAST(NULL AS {duckdb_type_sql(a.dtype)}) AS {a.col}" for a in attrs)
        return f"(SELECT {cols}) AS __scope"

    def describe(self, select_sql: str) -> list[tuple[str, duckdb.DuckDBPyType]]:
        """Column names and types of a query, by binding it (no execution).

        Memoised on the text with attribute ids renumbered by first appearance: the same
        expression over the same input types binds alike whichever ids the columns got,
        so re-planning a query (``spark.sql`` analyses it, ``schema`` and the execution
        plan it again) and the many queries that share expressions bind once. Binding is
        2-3 ms a statement, most of the driver's planning time otherwise.
        """
        canonical, ids = canonical_ids(select_sql)
        hit = self._described.get(canonical)
        if hit is None:
            try:
                builtins.ensure(self.con, select_sql)
                rel = self.con.sql(canonical)
            except duckdb.Error:
                # The uncanonical text, so the error names the query's own columns.
                try:
                    rel = self.con.sql(select_sql)
                except duckdb.Error as e:
                    raise binder_error(e) from None
                return list(zip(rel.columns, rel.types, strict=True))
            hit = list(zip(rel.columns, rel.types, strict=True))
            if len(self._described) > 50000:
                self._described.clear()
            self._described[canonical] = hit
        if not ids:
            return list(hit)
        back = {f"_c{i}": f"_c{orig}" for orig, i in ids.items()}
        return [(_ID.sub(lambda m: back.get(m.group(0), m.group(0)), name), t) for name, t in hit]

    def duck_types(self, exprs: list[str], attrs: list[Attribute]) -> tuple[duckdb.DuckDBPyType, ...]:
        return tuple(
            self.describe(f"SELECT {e} FROM {self.scope_sql(attrs, e)}")[0][1] for e in exprs
        )

    def spark_type(self, expr_sql: str, attrs: list[Attribute]) -> DataType:
        return spark_type_from_duckdb(self.duck_types([expr_sql], attrs)[0])


def _never_called(*args):  # noqa: ANN002, ANN202 - the driver binds UDF calls, never runs them
    raise RuntimeError("a Python UDF ran in the driver")


# An attribute's column name (ir.Attribute.col), outside string literals and quoted names.
_ID = re.compile(r"\b_c(\d+)\b")
_HARMLESS_STARS = re.compile(r"count\(\*\)| \* ", re.IGNORECASE)  # count(*), a * b
_ID_OR_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\b_c(\d+)\b")


def canonical_ids(sql: str) -> tuple[str, dict[str, int]]:
    """``sql`` with attribute ids renumbered 0, 1, ... by first appearance, and the map.

    A consistent renaming of every ``_cN`` identifier binds exactly as the original
    (``_c12_sum`` and quoted text are other tokens and stay as they are).
    """
    ids: dict[str, int] = {}

    def rename(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return m.group(0)
        return f"_c{ids.setdefault(m.group(1), len(ids))}"

    return _ID_OR_QUOTED.sub(rename, sql), ids


_COLUMN_NOT_FOUND = re.compile(r'Referenced column "?([^"\s]+)"? not found')
_FUNCTION_NOT_FOUND = re.compile(r"(?:Scalar|Aggregate|Table)? ?Function with name \"?([\w.]+)\"? does not exist")


def binder_error(e: Exception) -> AnalysisException:
    """A DuckDB bind/parse error for SQL we generated, in Spark's words where we can."""
    text = str(e)
    m = _FUNCTION_NOT_FOUND.search(text)
    if m:
        name = m.group(1)
        return AnalysisException(
            f"The routine `{name}` cannot be found. Verify the spelling and correctness of the "
            "schema and catalog.",
            "UNRESOLVED_ROUTINE",
            sql_state="42883",
            parameters={"routineName": f"`{name}`"},
        )
    if "must appear in the GROUP BY clause" in text or "must be part of an aggregate" in text:
        return AnalysisException(
            "The expression is neither present in the group by, nor is it an aggregate function. "
            f"({_first_line(text)})",
            "MISSING_AGGREGATION",
            sql_state="42803",
        )
    if "No function matches" in text or "Could not convert" in text or "Cannot mix" in text:
        return AnalysisException(
            f"Cannot resolve the expression due to data type mismatch: {_first_line(text)}",
            "DATATYPE_MISMATCH",
            sql_state="42K09",
        )
    return AnalysisException(_first_line(text), "INTERNAL_PLANNING_ERROR", sql_state="42000")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
