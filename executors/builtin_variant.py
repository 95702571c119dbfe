"""Python built-ins for variant edits and schemas, over a variant's JSON text.

The planner (``sparkless/plan/functions_variant.py``) passes ``CAST(v AS JSON)`` text and
turns the returned text back into a VARIANT. Paths are Spark's variant paths: ``$`` then
``.name``, ``['name']``, ``["name"]`` or ``[index]`` segments.
"""

from __future__ import annotations

import json
import re
from typing import Any

from executors.builtins import SparkFunctionError, builtin

_SEGMENT = re.compile(r"\.([^.\[\]]+)|\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]|\[(\d+)\]")
_MISSING = object()


def _path(path: str, fn: str) -> list[str | int]:
    if not path.startswith("$"):
        raise _bad_path(path, fn)
    out: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if m is None:
            raise _bad_path(path, fn)
        key, sq, dq, index = m.groups()
        out.append(int(index) if index is not None else key if key is not None else sq if sq is not None else dq)
        pos = m.end()
    return out


def _bad_path(path: str, fn: str) -> SparkFunctionError:
    return SparkFunctionError(
        f"[INVALID_VARIANT_PATH] The path '{path}' is not a valid {fn} target. A valid path "
        "should start with `$` and is followed by segments like `[123]`, `.name`, `['name']`, "
        'or `["name"]`.'
    )


class _Mismatch(Exception):
    def __init__(self, at: int) -> None:
        self.at = at


def _render(steps: list[str | int]) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)


def _fits(container: Any, step: str | int) -> bool:
    return isinstance(container, dict) if isinstance(step, str) else isinstance(container, list)


def _get(doc: Any, steps: list[str | int]) -> Any:
    cur = doc
    for step in steps:
        if isinstance(step, str):
            if not isinstance(cur, dict) or step not in cur:
                return _MISSING
            cur = cur[step]
        else:
            if not isinstance(cur, list) or step >= len(cur):
                return _MISSING
            cur = cur[step]
    return cur


def _parent(doc: Any, steps: list[str | int], create: bool) -> Any:
    """The container the last step addresses, made on the way if ``create`` (else _MISSING)."""
    cur = doc
    for i, step in enumerate(steps[:-1]):
        nxt = steps[i + 1]
        if not _fits(cur, step):
            raise _Mismatch(i)
        value = _get(cur, [step])
        if value is _MISSING:
            if not create:
                return _MISSING
            value = {} if isinstance(nxt, str) else []
            _put(cur, step, value, insert=False)
        cur = value
    if steps and not _fits(cur, steps[-1]):
        raise _Mismatch(len(steps) - 1)
    return cur


def _put(container: Any, step: str | int, value: Any, insert: bool) -> None:
    if isinstance(step, str):
        container[step] = value
    elif step >= len(container):
        container.extend([None] * (step - len(container)))
        container.append(value)
    elif insert:
        container.insert(step, value)
    else:
        container[step] = value


def _strip(value: Any, arrays: bool) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v, arrays) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip(v, arrays) for v in value if not (arrays and v is None)]
    return value


_NAMES = {
    "array_append": "variant_array_append",
    "insert": "variant_insert",
    "set": "variant_set",
    "delete": "variant_delete",
    "strip_nulls": "variant_strip_nulls",
}


@builtin("variant_modify", ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "BOOLEAN", "BOOLEAN"],
         "VARCHAR", special_nulls=True)
def variant_modify(
    op: str, text: str | None, path: str | None, value: str | None, flag: bool, strict: bool
) -> str | None:
    """One edit of a variant: NULL variant, path or (for writes) value gives NULL."""
    if text is None or path is None or (value is None and op in ("array_append", "insert", "set")):
        return None
    fn = _NAMES[op] if strict else "try_" + _NAMES[op]
    doc = json.loads(text)
    if op == "strip_nulls":
        return _dump(_strip(doc, flag))
    steps = _path(path, fn)
    new = json.loads(value) if value is not None else None
    try:
        doc = _apply(op, doc, steps, new, flag, path, fn)
    except _Mismatch as m:
        if not strict:
            return None
        raise SparkFunctionError(
            f"[VARIANT_PATH_TYPE_MISMATCH] The path '{path}' is incompatible with the variant "
            f"value at '{_render(steps[: m.at])}' in {fn}."
        ) from None
    return _dump(doc)


def _apply(op: str, doc: Any, steps: list[str | int], new: Any, create: bool, path: str,
           fn: str) -> Any:
    if op == "array_append":
        _parent_or_mismatch(doc, steps)
        target = _get(doc, steps)
        if target is _MISSING:
            return doc
        if not isinstance(target, list):
            raise _Mismatch(len(steps))
        target.append(new)
        return doc
    if not steps:
        if op == "set":
            return new
        raise _bad_path(path, fn)
    if op == "delete":
        parent = _parent_or_missing(doc, steps)
        if parent is _MISSING or _get(parent, steps[-1:]) is _MISSING:
            return doc
        del parent[steps[-1]]
        return doc
    if op == "insert":
        parent = _parent(doc, steps, create=True)
        if isinstance(steps[-1], str) and steps[-1] in parent:
            raise _Mismatch(len(steps))
        _put(parent, steps[-1], new, insert=True)
        return doc
    # set
    parent = _parent(doc, steps, create=create)
    if parent is _MISSING:
        return doc
    if _get(parent, steps[-1:]) is _MISSING and not create:
        return doc
    _put(parent, steps[-1], new, insert=False)
    return doc


def _parent_or_mismatch(doc: Any, steps: list[str | int]) -> None:
    """Raise _Mismatch where a step meets a value of the other kind (object vs array)."""
    cur = doc
    for i, step in enumerate(steps):
        if not _fits(cur, step):
            raise _Mismatch(i)
        cur = _get(cur, [step])
        if cur is _MISSING:
            return


def _parent_or_missing(doc: Any, steps: list[str | int]) -> Any:
    try:
        return _parent(doc, steps, create=False)
    except _Mismatch:
        return _MISSING


def _dump(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------- schemas


class _Decimal(float):
    """A JSON number written without an exponent: Spark's parse_json keeps it DECIMAL."""

    def __new__(cls, text: str) -> _Decimal:
        obj = super().__new__(cls, float(text))
        digits = text.lstrip("-")
        whole, _, frac = digits.partition(".")
        obj.scale = len(frac)  # type: ignore[attr-defined]
        obj.precision = max(len((whole + frac).lstrip("0")), obj.scale, 1)  # type: ignore[attr-defined]
        return obj


def _number(text: str) -> Any:
    if "e" in text or "E" in text:
        return float(text)
    d = _Decimal(text)
    return d if d.precision <= 38 else float(text)  # type: ignore[attr-defined]


def _schema(value: Any) -> tuple:
    """A variant value's schema as a tree: ("BIGINT",), ("DECIMAL", p, s), ("ARRAY", t)..."""
    if value is None:
        return ("VOID",)
    if isinstance(value, bool):
        return ("BOOLEAN",)
    if isinstance(value, int):
        return ("BIGINT",)
    if isinstance(value, _Decimal):
        return ("DECIMAL", value.precision, value.scale)  # type: ignore[attr-defined]
    if isinstance(value, float):
        return ("DOUBLE",)
    if isinstance(value, str):
        return ("STRING",)
    if isinstance(value, list):
        elem: tuple = ("VOID",)
        for v in value:
            elem = _merge(elem, _schema(v))
        return ("ARRAY", elem)
    return ("OBJECT", tuple(sorted((k, _schema(v)) for k, v in value.items())))


def _merge(a: tuple, b: tuple) -> tuple:
    """Spark's SchemaOfVariant.mergeSchema."""
    if a == b:
        return a
    if a[0] == "VOID":
        return b
    if b[0] == "VOID":
        return a
    numeric = {"BIGINT", "DECIMAL", "DOUBLE"}
    if a[0] in numeric and b[0] in numeric:
        if "DOUBLE" in (a[0], b[0]):
            return ("DOUBLE",)
        pa, sa = (20, 0) if a[0] == "BIGINT" else a[1:]  # Spark widens a long to (20, 0)
        pb, sb = (20, 0) if b[0] == "BIGINT" else b[1:]
        scale = max(sa, sb)
        whole = max(pa - sa, pb - sb)
        return ("DECIMAL", min(whole + scale, 38), scale) if whole + scale <= 38 else ("DOUBLE",)
    if a[0] == b[0] == "ARRAY":
        return ("ARRAY", _merge(a[1], b[1]))
    if a[0] == b[0] == "OBJECT":
        fields = dict(a[1])
        for k, t in b[1]:
            fields[k] = _merge(fields[k], t) if k in fields else t
        return ("OBJECT", tuple(sorted(fields.items())))
    return ("VARIANT",)


def _render_schema(t: tuple) -> str:
    if t[0] == "DECIMAL":
        return f"DECIMAL({t[1]},{t[2]})"
    if t[0] == "ARRAY":
        return f"ARRAY<{_render_schema(t[1])}>"
    if t[0] == "OBJECT":
        return "OBJECT<" + ", ".join(f"{k}: {_render_schema(v)}" for k, v in t[1]) + ">"
    return t[0]


def _load(text: str) -> Any:
    return json.loads(text, parse_float=_number)


@builtin("schema_of_variant", ["VARCHAR"], "VARCHAR")
def schema_of_variant(text: str) -> str:
    return _render_schema(_schema(_load(text)))


@builtin("schema_of_variant_merge", ["VARCHAR[]"], "VARCHAR", special_nulls=True)
def schema_of_variant_merge(texts: list[str | None] | None) -> str:
    t: tuple = ("VOID",)
    for text in texts or []:
        if text is not None:
            t = _merge(t, _schema(_load(text)))
    return _render_schema(t)
