"""The Spark SQL dialect as sparkless parses it: sqlglot's, except that calls of the date and
time functions sparkless translates itself (``plan/functions_datetime.py``) parse as plain
calls, as they arrive from Connect -- sqlglot's own nodes for them (``to_timestamp`` as a
cast to a zone-less TIMESTAMP, ``from_utc_timestamp`` as ``AT TIME ZONE``...) would be
transpiled with DuckDB's meanings, not Spark's session-time-zone ones."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.spark import Spark

from sparkless.plan import catalog

# Names with their own syntax in Spark SQL (EXTRACT(f FROM x), WINDOW clauses) stay sqlglot's.
_KEEP = {"extract", "window"}


def _call(name: str):  # noqa: ANN202 - sqlglot's builder signature
    def build(args: list[exp.Expression]) -> exp.Expression:
        return exp.Anonymous(this=name, expressions=args)

    return build


def _datetime_names() -> list[str]:
    catalog._load()
    return sorted(n for n, fn in catalog.CATALOG.items()
                  if fn.__module__.endswith("functions_datetime") and n not in _KEEP)


class SparklessSpark(Spark):
    class Parser(Spark.Parser):
        FUNCTIONS = {**Spark.Parser.FUNCTIONS, **{n.upper(): _call(n) for n in _datetime_names()}}
