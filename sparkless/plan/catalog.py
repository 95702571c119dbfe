"""The function catalogue: Spark functions DuckDB lacks or means differently, by name.

A Connect call whose name is registered here reaches the analyzer as ``exp.Anonymous``
(sqlglot's own parse of the name is skipped), and :func:`translate` renders it for DuckDB
once its arguments are translated. Translators live in one module per family
(``functions_math``, ``functions_string``, ``functions_datetime``,
``functions_collections``, ``functions_aggregate``, ``functions_json``); each writes Spark's semantics as a DuckDB SQL expression
(:func:`template`), never as Python run per row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlglot
from pyspark.sql.types import DataType
from sqlglot import exp

if TYPE_CHECKING:
    from sparkless.plan.analyzer import Analyzer, Scope


@dataclasses.dataclass
class Call:
    """One call being translated: its Spark name, translated arguments and context."""

    name: str
    args: list[exp.Expression]
    analyzer: Analyzer
    scope: Scope
    node: exp.Expression

    def type(self, i: int) -> DataType:
        return self.analyzer.type_of(self.args[i], self.scope)

    @property
    def ansi(self) -> bool:
        return bool(self.analyzer.conf.ansi)

    def arg(self, i: int, default: exp.Expression | None = None) -> exp.Expression:
        if i < len(self.args):
            return self.args[i]
        if default is None:
            from sparkless.errors import AnalysisException

            raise AnalysisException(
                f"The function `{self.name}` requires more parameters; got {len(self.args)}.",
                "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
                sql_state="42605",
            )
        return default

    def literal_value(self, i: int) -> object:
        """The Python value of a literal argument (after our literal casts), or raise."""
        a = self.args[i]
        while isinstance(a, (exp.Cast, exp.TryCast, exp.Paren)):
            a = a.this
        if isinstance(a, exp.Neg) and isinstance(a.this, exp.Literal):
            return -_lit(a.this)
        if isinstance(a, exp.Literal):
            return _lit(a)
        if isinstance(a, exp.Boolean):
            return bool(a.this)
        if isinstance(a, exp.Null):
            return None
        from sparkless.errors import AnalysisException

        raise AnalysisException(
            f"The function `{self.name}` needs a literal for parameter {i + 1}.",
            "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
            sql_state="42K09",
        )

    def is_literal(self, i: int) -> bool:
        try:
            self.literal_value(i)
        except Exception:
            return False
        return True


def _lit(a: exp.Literal) -> object:
    if a.is_string:
        return a.this
    text = str(a.this)
    return float(text) if any(c in text for c in ".eE") else int(text)


Translator = Callable[[Call], exp.Expression]
CATALOG: dict[str, Translator] = {}


def register(*names: str) -> Callable[[Translator], Translator]:
    def deco(fn: Translator) -> Translator:
        for n in names:
            CATALOG[n] = fn
        return fn

    return deco


AGGREGATES: set[str] = set()


def register_aggregate(*names: str) -> Callable[[Translator], Translator]:
    """An aggregate function: the planner groups by it (see ``is_aggregate``)."""
    AGGREGATES.update(names)
    return register(*names)


def is_aggregate_call(e: exp.Expression) -> bool:
    """A call of a catalogued aggregate, before translation."""
    if not isinstance(e, exp.Anonymous):
        return False
    _load()
    return str(e.this).lower() in AGGREGATES


def template(sql: str, nullable: bool | None = None, **args: exp.Expression) -> exp.Expression:
    """A DuckDB SQL expression with ``{name}`` placeholders replaced by argument trees.

    Columns the text itself names (lambda parameters) are marked resolved so that no
    later pass tries to find them among the plan's columns.
    """
    text = sql
    for k in args:
        text = text.replace("{" + k + "}", f"__arg_{k}")
    tree = sqlglot.parse_one(text, read="duckdb")
    for col in list(tree.find_all(exp.Column)):
        name = col.name
        if name.startswith("__arg_") and not col.table:
            col.replace(exp.paren(args[name[len("__arg_") :]].copy(), copy=False))
        else:
            col.meta["resolved"] = True
    if nullable is not None:
        tree.meta["nullable"] = nullable
    return tree


def nullable_any(*args: exp.Expression) -> bool:
    from sparkless.plan.analyzer import nullability

    return any(nullability(a) for a in args)


def translate(e: exp.Anonymous, analyzer: Analyzer, scope: Scope) -> exp.Expression | None:
    """The DuckDB rendering of a catalogued Spark call, or None if not catalogued."""
    _load()
    name = str(e.this).lower()
    fn = CATALOG.get(name)
    if fn is None:
        return None
    out = fn(Call(name, list(e.expressions), analyzer, scope, e))
    if e.meta.get("from_string"):
        out.meta["nullable"] = True
    elif "nullable" not in out.meta:
        out.meta["nullable"] = nullable_any(*e.expressions)
    return out


def known(name: str) -> bool:
    _load()
    return name.lower() in CATALOG


_LOADED = False


def _load() -> None:
    global _LOADED
    if not _LOADED:
        _LOADED = True
        from sparkless.plan import (  # noqa: F401  (modules register on import)
            functions_aggregate,
            functions_collections,
            functions_crypto,
            functions_datetime,
            functions_formats,
            functions_hash_random,
            functions_json,
            functions_math,
            functions_sketch,
            functions_string,
            functions_variant,
            functions_vector,
        )
