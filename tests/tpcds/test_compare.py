"""The comparison rules catch wrong answers and accept legitimate differences."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tpcds import compare, queries
from tpcds.compare import OrderSpec

REF = [
    (2001, "b", Decimal("10.00"), dt.date(2001, 1, 1)),
    (2001, "a", Decimal("7.50"), None),
    (2002, "c", Decimal("1.25"), dt.date(2002, 3, 4)),
]
ORDERED = OrderSpec(keys=(0,), limit=None)
UNORDERED = OrderSpec(keys=(), limit=None)


def test_identical_answer_is_accepted() -> None:
    assert compare.diff(list(REF), REF, ORDERED) is None


def test_altered_value_is_caught() -> None:
    altered = [REF[0], (2001, "a", Decimal("7.51"), None), REF[2]]
    assert "7.51" in (compare.diff(altered, REF, ORDERED) or "")
    assert compare.diff(altered, REF, UNORDERED) is not None


def test_missing_or_extra_row_or_column_is_caught() -> None:
    assert compare.diff(REF[:2], REF, UNORDERED) == "2 rows, expected 3"
    assert compare.diff([*REF, REF[0]], REF, UNORDERED) is not None
    assert compare.diff([r[:3] for r in REF], REF, UNORDERED) == "3 columns, expected 4"


def test_null_is_equal_to_null_only() -> None:
    assert compare.values_equal(None, None)
    assert not compare.values_equal(None, 0)
    assert not compare.values_equal("", None)


def test_numbers_match_within_the_stated_tolerance() -> None:
    assert compare.values_equal(Decimal("12.345678"), 12.3456781)
    assert compare.values_equal(3, Decimal("3.00"))
    assert not compare.values_equal(Decimal("12.34"), Decimal("12.35"))
    assert compare.values_equal(float("nan"), float("nan"))


def test_order_matters_on_the_order_by_prefix_only() -> None:
    swapped_ties = [REF[1], REF[0], REF[2]]  # same key 2001: ties may come in any order
    assert compare.diff(swapped_ties, REF, ORDERED) is None
    out_of_order = [REF[2], REF[0], REF[1]]
    assert "ORDER BY group 0" in (compare.diff(out_of_order, REF, ORDERED) or "")
    assert compare.diff(out_of_order, REF, UNORDERED) is None


def test_limit_cut_among_ties_is_accepted_but_not_a_wrong_size() -> None:
    spec = OrderSpec(keys=(0,), limit=3)
    other_tie = [REF[0], REF[1], (2002, "z", Decimal("9.99"), None)]
    assert compare.diff(other_tie, REF, spec) is None
    assert compare.diff(other_tie, REF, ORDERED) is not None


def test_order_spec_reads_the_top_level_order_by() -> None:
    spec = compare.order_spec(queries.load("q3"))
    assert spec.keys == (0, 3, 1) and spec.limit == 100
    assert compare.order_spec("SELECT a, sum(b) s FROM t GROUP BY a").keys == ()
    assert compare.order_spec("SELECT a, b FROM t ORDER BY 2, a").keys == (1, 0)
    assert compare.order_spec("SELECT a, b FROM t ORDER BY a + b, a").keys == ()


def test_failures_group_by_cause_not_by_name() -> None:
    from tpcds.report import cause

    a = cause("AnalysisException: [UNRESOLVED_COLUMN] name `ctr2`.`x` cannot be resolved. "
              "Did you mean `y`?")
    b = cause("AnalysisException: [UNRESOLVED_COLUMN] name `i_brand` cannot be resolved.")
    assert a == b
    assert cause('Binder Error: column "_c468" must appear') == \
        cause('Binder Error: column "_c192" must appear')
