"""The 99 TPC-DS query texts: DuckDB's originals and their Spark SQL translations.

Both are committed under ``tpcds/queries/`` (``qNN.sql`` is Spark SQL, ``duckdb/qNN.sql``
the generator's DuckDB text used for the reference answers). ``python -m tpcds queries``
regenerates them from the TPC-DS extension's ``tpcds_queries()`` and sqlglot
(``read="duckdb", write="spark"``).

Why the fix-up: a few generator queries write column aliases in double quotes
(``AS "order count"``). sqlglot turns quoted identifiers into back-quoted ones, but
anything that reaches Spark as ``"..."`` would be a string literal there, so the output
is checked for stray double quotes and the translation fails loudly instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import sqlglot
from sqlglot import exp

from tpcds import dsdgen

QUERY_DIR = Path(__file__).resolve().parent / "queries"
DUCKDB_DIR = QUERY_DIR / "duckdb"
ALL = tuple(f"q{n}" for n in range(1, 100))


def to_spark(duckdb_sql: str) -> str:
    """Translate one DuckDB query to Spark SQL, double-quoted aliases made back-quoted."""
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    for ident in tree.find_all(exp.Identifier):
        # A double-quoted alias such as "order count" must stay an identifier in Spark.
        if ident.quoted or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ident.name):
            ident.set("quoted", True)
    spark = tree.sql(dialect="spark", pretty=True)
    if re.search(r'(?<![\\\w])"[^"]*"', _strip_strings(spark)):
        raise ValueError(f"double-quoted text left in Spark SQL:\n{spark}")
    return spark + "\n"


def _strip_strings(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def fetch_duckdb_queries() -> dict[str, str]:
    """The generator's query texts, keyed ``qNN``."""
    body = (
        "import json\n"
        "rows = connect().execute('SELECT query_nr, query FROM tpcds_queries()').fetchall()\n"
        "print(json.dumps({f'q{n}': q for n, q in rows}))\n"
    )
    return json.loads(dsdgen.run_capture(body))


def regenerate() -> None:
    """Rewrite every ``qNN.sql`` and ``duckdb/qNN.sql`` from the generator."""
    DUCKDB_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(fetch_duckdb_queries().items(), key=lambda kv: int(kv[0][1:])):
        text = text.strip() + "\n"
        (DUCKDB_DIR / f"{name}.sql").write_text(text)
        (QUERY_DIR / f"{name}.sql").write_text(to_spark(text))
        print(f"tpcds: wrote {name}.sql", flush=True)


def load(name: str, dialect: str = "spark") -> str:
    """The text of query ``name`` (``q1``..``q99``) in ``spark`` or ``duckdb`` dialect."""
    folder = QUERY_DIR if dialect == "spark" else DUCKDB_DIR
    return (folder / f"{name}.sql").read_text()


def select(spec: str) -> list[str]:
    """Parse ``all`` or ``q1,q5,...`` (``1,5`` also accepted) into query names."""
    if spec.strip().lower() == "all":
        return list(ALL)
    names = [s.strip().lower() for s in spec.split(",") if s.strip()]
    names = [n if n.startswith("q") else f"q{n}" for n in names]
    unknown = [n for n in names if n not in ALL]
    if unknown:
        raise ValueError(f"unknown queries: {', '.join(unknown)}")
    return names
