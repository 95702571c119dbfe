"""The committed query texts: 99 of each, parseable, and in step with the translator."""

from __future__ import annotations

import pytest
import sqlglot

from tpcds import queries


def test_ninety_nine_of_each() -> None:
    assert sorted(p.stem for p in queries.QUERY_DIR.glob("q*.sql")) == sorted(queries.ALL)
    assert sorted(p.stem for p in queries.DUCKDB_DIR.glob("q*.sql")) == sorted(queries.ALL)


@pytest.mark.parametrize("name", queries.ALL)
def test_query_parses_and_matches_its_translation(name: str) -> None:
    spark = queries.load(name)
    sqlglot.parse_one(spark, read="spark")
    sqlglot.parse_one(queries.load(name, "duckdb"), read="duckdb")
    assert queries.to_spark(queries.load(name, "duckdb")) == spark


def test_double_quoted_aliases_become_identifiers() -> None:
    assert "AS `order count`" in queries.load("q16")
    assert '"' not in queries.load("q62")


def test_select_parses_lists() -> None:
    assert queries.select("q1, 5") == ["q1", "q5"]
    assert len(queries.select("all")) == 99
    with pytest.raises(ValueError):
        queries.select("q100")
