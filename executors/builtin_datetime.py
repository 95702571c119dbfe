"""Parsing with a Spark datetime pattern that is a column, not a literal.

DuckDB's ``strptime`` takes only a constant format; the planner converts literal patterns
itself (``sparkless/plan/functions_datetime.py``) and calls these only when each row may
bring its own pattern. Results are zone-less; the SQL around casts them in the session zone.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from executors.builtins import SparkFunctionError, builtin

# Spark pattern letters -> strptime's, longest first; single letters are left alone.
PATTERN = [
    ("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"),
    ("HH", "%H"), ("hh", "%I"), ("mm", "%M"), ("ss", "%S"), ("SSSSSS", "%f"), ("SSS", "%g"),
    ("EEEE", "%A"), ("EEE", "%a"), ("XXX", "%z"), ("'", ""),
]


@lru_cache(maxsize=256)
def strptime_pattern(spark: str) -> str:
    """A Spark pattern as a strptime format (``%g``, milliseconds, is DuckDB's)."""
    out = spark
    for k, v in PATTERN:
        out = out.replace(k, v)
    return out


def _parse(text: str, pattern: str) -> dt.datetime:
    fmt = strptime_pattern(pattern).replace("%g", "%f")
    value = dt.datetime.strptime(text, fmt)
    if value.tzinfo is not None:  # the instant would need the session zone: not here
        raise SparkFunctionError(
            "[UNSUPPORTED_FEATURE.SPARKLESS] A zone offset in a datetime pattern given as a "
            "column is not supported by sparkless yet."
        )
    return value


@builtin("strptime", ["VARCHAR", "VARCHAR"], "TIMESTAMP")
def strptime(text: str, pattern: str) -> dt.datetime:
    try:
        return _parse(text, pattern)
    except ValueError:
        raise SparkFunctionError(
            f"[CANNOT_PARSE_TIMESTAMP] Text '{text}' could not be parsed with the pattern "
            f"'{pattern}'. Use `try_to_timestamp` to tolerate invalid input string and return "
            "NULL instead."
        ) from None


@builtin("try_strptime", ["VARCHAR", "VARCHAR"], "TIMESTAMP")
def try_strptime(text: str, pattern: str) -> dt.datetime | None:
    try:
        return _parse(text, pattern)
    except ValueError:
        return None
