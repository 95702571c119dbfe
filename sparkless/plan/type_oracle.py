"""Ask DuckDB what type an expression has.

The planner renders Spark semantics into DuckDB SQL; rather than re-implementing
DuckDB's type rules, it asks DuckDB (``DESCRIBE``, nothing executed) what a rendered
expression yields over inputs of known types, and maps that back to a Spark type.
Binder errors come back as AnalysisException, which is what Spark would raise.
"""

from __future__ import annotations

import re
import threading

import duckdb
from pyspark.sql.types import DataType

from executors import builtins
from executors.python_udf import with_arity
from sparkless.errors import AnalysisException
from sparkless.plan.ir import Attribute
from sparkless.plan.types import duckdb_type_sql, spark_type_from_duckdb


class TypeOracle:
    def __init__(self) -> None:
        self._local = threading.local()
        self._cache: dict[tuple[str, str], tuple[duckdb.DuckDBPyType, ...]] = {}
        self._functions: dict[str, tuple[list[str], str]] = {}  # Python UDF stubs

    def add_function(self, name: str, params: list[str], returns: str) -> None:
        """A function DuckDB can bind (never run here): a Python UDF's signature."""
        self._functions.setdefault(name, (params, returns))

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = duckdb.connect()
            con.execute("SET threads=1")
            self._local.con = con
            self._local.functions = set()
        if len(self._local.functions) != len(self._functions):
            for name, (params, returns) in list(self._functions.items()):
                if name not in self._local.functions:
                    stub = with_arity(_never_called, len(params))
                    con.create_function(name, stub, params, returns, type="arrow",
                                        null_handling="special", side_effects=True)
                    self._local.functions.add(name)
        return con

    @staticmethod
    def scope_sql(attrs: list[Attribute]) -> str:
        if not attrs:
            return "(SELECT 1 AS __dummy) AS __scope"
        cols = ", ".join(f"CAST(NULL AS {duckdb_type_sql(a.dtype)}) AS {a.col}" for a in attrs)
        return f"(SELECT {cols}) AS __scope"

    def describe(self, select_sql: str) -> list[tuple[str, duckdb.DuckDBPyType]]:
        """Column names and types of a query, by binding it (no execution)."""
        try:
            builtins.ensure(self.con, select_sql)
            rel = self.con.sql(select_sql)
        except duckdb.Error as e:
            raise binder_error(e) from None
        return list(zip(rel.columns, rel.types, strict=True))

    def duck_types(self, exprs: list[str], attrs: list[Attribute]) -> tuple[duckdb.DuckDBPyType, ...]:
        scope = self.scope_sql(attrs)
        key = ("\x00".join(exprs), scope)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out = []
        for e in exprs:  # one at a time: aggregates and plain columns must not mix
            out.append(self.describe(f"SELECT {e} FROM {scope}")[0][1])
        result = tuple(out)
        if len(self._cache) > 10000:
            self._cache.clear()
        self._cache[key] = result
        return result

    def spark_type(self, expr_sql: str, attrs: list[Attribute]) -> DataType:
        return spark_type_from_duckdb(self.duck_types([expr_sql], attrs)[0])


def _never_called(*args):  # noqa: ANN002, ANN202 - the driver binds UDF calls, never runs them
    raise RuntimeError("a Python UDF ran in the driver")


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
