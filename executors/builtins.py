"""Spark built-ins that only Python can compute, as DuckDB functions registered on demand.

Most Spark functions are rendered as DuckDB SQL by the planner (``sparkless/plan/functions_*``).
A few need a library DuckDB lacks (XPath, AES-GCM, CSV/XML parsing...). Those are written
in Python and registered here by name; the planner's SQL calls them as ``sparkless_<name>``
and :func:`ensure` registers, on a connection, exactly the ones a query's text mentions --
the executors before running a task, the driver's type oracle before binding. A function's
module is imported only when a query uses it.

Shared by every family: add an entry with :func:`builtin` in the module that implements it
and list that module in ``_MODULES``.

Errors: a function raises :class:`SparkFunctionError` with ``[ERROR_CLASS] message``; DuckDB
wraps it as ``Python exception occurred while executing the UDF: ...`` and
``executors.errors`` unwraps the bracketed class, as for SQL ``error()`` calls.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import weakref
from collections.abc import Callable
from typing import Any

import duckdb

PREFIX = "sparkless_"

# Modules that define built-ins (imported lazily, once, when a query names one of theirs).
_MODULES: dict[str, str] = {}  # function name -> module that defines it


@dataclasses.dataclass(frozen=True)
class Builtin:
    name: str  # full DuckDB name, PREFIX included
    fn: Callable[..., Any]
    params: list[str]  # DuckDB type texts
    returns: str
    kind: str = "native"  # or "arrow": the function gets and returns pyarrow arrays
    special_nulls: bool = False  # True: the function sees NULLs (else NULL in -> NULL out)
    side_effects: bool = False  # True: not constant-folded, called per row (random IVs)


_BUILTINS: dict[str, Builtin] = {}
# connection -> names registered on it; weak keys: an id() outlives its connection and is
# reused by the next one (the oracle's per-thread connections), which then lacked functions
_registered: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, set[str]] = (
    weakref.WeakKeyDictionary()
)


class SparkFunctionError(ValueError):
    """A Spark runtime error from a Python built-in; the message starts ``[ERROR_CLASS]``."""


def builtin(
    name: str,
    params: list[str],
    returns: str,
    *,
    kind: str = "native",
    special_nulls: bool = False,
    side_effects: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` as the DuckDB function ``sparkless_<name>``."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        full = PREFIX + name
        _BUILTINS[full] = Builtin(full, fn, params, returns, kind, special_nulls, side_effects)
        return fn

    return deco


def declare(module: str, *names: str) -> None:
    """``names`` (without PREFIX) are defined by ``module``, imported on first use."""
    for n in names:
        _MODULES[PREFIX + n] = module


def call(name: str) -> str:
    """The SQL name of a built-in (for the planner's templates)."""
    return PREFIX + name


_NAME = re.compile(r"\b(" + PREFIX + r"\w+)\s*\(", re.IGNORECASE)


def ensure(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Register on ``con`` every built-in ``sql`` calls that it lacks."""
    if PREFIX not in sql.lower():
        return
    done = _registered.setdefault(con, set())
    for name in {m.lower() for m in _NAME.findall(sql)}:
        if name in done:
            continue
        spec = _lookup(name)
        if spec is None:
            continue  # not ours: DuckDB reports the unknown function
        fn = spec.fn if spec.special_nulls or spec.kind != "native" else _null_in_null_out(spec)
        con.create_function(
            spec.name,
            fn,
            spec.params,
            spec.returns,
            type=spec.kind,
            # native "default" would forbid a NULL result (DuckDB raises): NULL in, NULL out
            # is done by _null_in_null_out instead.
            null_handling="special" if spec.kind == "native" or spec.special_nulls else "default",
            side_effects=spec.side_effects,
        )
        done.add(name)


def _null_in_null_out(spec: Builtin) -> Callable[..., Any]:
    fn = spec.fn
    params = ", ".join(f"a{i}" for i in range(len(spec.params)))
    test = " or ".join(f"a{i} is None" for i in range(len(spec.params))) or "False"
    scope: dict[str, Any] = {"fn": fn}
    # DuckDB counts a Python function's parameters (``*args`` is one): spell them out.
    exec(  # noqa: S102 - our own text
        f"def call({params}):\n    return None if {test} else fn({params})", scope)
    return scope["call"]


def _lookup(name: str) -> Builtin | None:
    if name not in _BUILTINS and name in _MODULES:
        importlib.import_module(_MODULES[name])
    return _BUILTINS.get(name)


_load_done = False


def _load_declarations() -> None:
    """Family modules declare their names here (cheap: no heavy imports)."""
    global _load_done
    if _load_done:
        return
    _load_done = True
    import executors.builtin_sketches  # noqa: F401  (sketches, hashes, random: registers its own)
    declare(
        "executors.builtin_formats",
        "xpath", "xpath_boolean", "xpath_double", "xpath_string", "xpath_long", "xpath_int",
        "xpath_short", "csv_fields", "parse_url", "url_decode", "to_base32", "from_base32",
    )
    declare("executors.builtin_xml", "xml_to_json", "to_xml")
    declare("executors.builtin_datetime", "strptime", "try_strptime")
    declare("executors.builtin_sampling", "poisson_count")
    declare("executors.builtin_crypto", "aes_encrypt", "aes_decrypt", "hmac")
    declare("executors.builtin_strings", "soundex", "sentences", "conv", "format_number", "split",
            "str_to_map", "to_number", "to_char_number")
    declare(
        "executors.builtin_variant",
        "variant_modify", "schema_of_variant", "schema_of_variant_merge",
    )


_load_declarations()
