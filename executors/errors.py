"""Task failures as Spark would report them: exception class, error class, SQL state.

The planner renders Spark's runtime checks as DuckDB ``error('[CLASS] message')`` calls,
so the class travels inside DuckDB's message; DuckDB's own errors are recognised by their
message prefix. Everything the mapping knows is data in the tables below, so adding a
Spark error condition is one line, not a new branch.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass

from executors.events import TaskError
from shuffle.errors import FetchFailed
from storage.base import BlockNotFound

SPARK_EXCEPTION = "org.apache.spark.SparkException"
SPARK_RUNTIME_EXCEPTION = "org.apache.spark.SparkRuntimeException"
FETCH_FAILED_EXCEPTION = "org.apache.spark.shuffle.FetchFailedException"
PYTHON_EXCEPTION = "org.apache.spark.api.python.PythonException"


class UserCodeError(Exception):
    """An exception in a client's Python function; ``text`` is the user's traceback."""

    def __init__(self, text: str, function: str = "") -> None:
        super().__init__(text)
        self.text = text
        self.function = function

# error class -> (JVM exception class, SQLSTATE), from Spark's error-conditions.json.
ERROR_CLASSES: dict[str, tuple[str, str]] = {
    "DIVIDE_BY_ZERO": ("org.apache.spark.SparkArithmeticException", "22012"),
    "REMAINDER_BY_ZERO": ("org.apache.spark.SparkArithmeticException", "22012"),
    "INTERVAL_DIVIDED_BY_ZERO": ("org.apache.spark.SparkArithmeticException", "22012"),
    "ARITHMETIC_OVERFLOW": ("org.apache.spark.SparkArithmeticException", "22003"),
    "CAST_OVERFLOW": ("org.apache.spark.SparkArithmeticException", "22003"),
    "NUMERIC_VALUE_OUT_OF_RANGE": ("org.apache.spark.SparkArithmeticException", "22003"),
    "CAST_INVALID_INPUT": ("org.apache.spark.SparkNumberFormatException", "22018"),
    "INVALID_ARRAY_INDEX": ("org.apache.spark.SparkArrayIndexOutOfBoundsException", "22003"),
    "INVALID_ARRAY_INDEX_IN_ELEMENT_AT": (
        "org.apache.spark.SparkArrayIndexOutOfBoundsException",
        "22003",
    ),
    "SCALAR_SUBQUERY_TOO_MANY_ROWS": ("org.apache.spark.SparkException", "21000"),
    "FETCH_FAILED": (FETCH_FAILED_EXCEPTION, "58030"),
}


@dataclass(frozen=True)
class DuckDBRule:
    """A DuckDB-native error (``"<prefix>: <detail>"``) that Spark reports as ``error_class``."""

    prefix: str
    error_class: str
    detail: str = ""  # regex the detail must match; empty matches all


# First match wins: more specific rules first.
DUCKDB_RULES: tuple[DuckDBRule, ...] = (
    DuckDBRule("Conversion Error", "CAST_OVERFLOW", r"out of range for the destination type"),
    DuckDBRule("Conversion Error", "CAST_INVALID_INPUT"),
    DuckDBRule("Out of Range Error", "CAST_OVERFLOW", r"out of range for the destination type"),
    DuckDBRule("Out of Range Error", "ARITHMETIC_OVERFLOW"),
)

# "Invalid Input Error: [DIVIDE_BY_ZERO] Division by zero ..." (from SQL error()).
# A Python built-in (executors.builtins) raising "[CLASS] ..." arrives wrapped by DuckDB.
_BRACKETED = re.compile(
    r"^(?:[A-Za-z ]+ Error: )?(?:Python exception occurred while executing the UDF: \w+: )?"
    r"(\[([A-Z][A-Z0-9_]*(?:\.[A-Z][A-Z0-9_]*)?)\].*)$",
    re.DOTALL,
)
_DUCKDB_PREFIX = re.compile(r"^([A-Za-z ]+ Error): (.*)$", re.DOTALL)


def _first_paragraph(text: str) -> str:
    """DuckDB appends ``LINE 1: <sql>`` context after a blank line; users did not write that SQL."""
    return text.split("\n\n", 1)[0].strip()


def _spark_error(error_class: str, message: str, tb: str) -> TaskError:
    exception, sql_state = ERROR_CLASSES.get(error_class, (SPARK_RUNTIME_EXCEPTION, ""))
    error: TaskError = {
        "exception": exception,
        "error_class": error_class,
        "message": message,
        "traceback": tb,
    }
    if sql_state:
        error["sql_state"] = sql_state
    return error


def _classify_message(text: str, tb: str) -> TaskError | None:
    """A Spark error for a DuckDB error message, or None if it is not a known runtime error."""
    bracketed = _BRACKETED.match(text)
    if bracketed:
        return _spark_error(bracketed.group(2), _first_paragraph(bracketed.group(1)), tb)
    prefixed = _DUCKDB_PREFIX.match(text)
    if not prefixed:
        return None
    prefix, detail = prefixed.group(1), _first_paragraph(prefixed.group(2))
    for rule in DUCKDB_RULES:
        if rule.prefix == prefix and (not rule.detail or re.search(rule.detail, detail)):
            return _spark_error(rule.error_class, f"[{rule.error_class}] {detail}", tb)
    return None


def task_error(exc: BaseException) -> TaskError:
    """The ``TaskError`` (see ``executors.events``) a failed task reports for ``exc``."""
    tb = "".join(traceback.format_exception(exc))
    if isinstance(exc, FetchFailed | BlockNotFound):
        error = _spark_error("FETCH_FAILED", f"[FETCH_FAILED] {exc}", tb)
        error["fetch_failed"] = {"key": exc.key, "store": exc.store}  # type: ignore[typeddict-unknown-key]
        return error
    if isinstance(exc, UserCodeError):
        return {"exception": PYTHON_EXCEPTION, "message": exc.text, "traceback": tb}
    if type(exc).__module__ in ("duckdb", "_duckdb"):
        mapped = _classify_message(str(exc), tb)
        if mapped is not None:
            return mapped
    return {
        "exception": SPARK_EXCEPTION,
        "message": f"{type(exc).__name__}: {exc}",
        "traceback": tb,
    }
