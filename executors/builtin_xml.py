"""Python built-ins for XML values: ``from_xml`` (XML to JSON text shaped by the schema, which
the planner casts with DuckDB's ``json_transform``), ``to_xml`` and Spark's XML schema
inference (``schema_of_xml``, run by the planner on a literal).

Spark's XML conventions (spark-xml): attributes are fields named ``_<attr>``, an element's
text beside attributes is ``_VALUE``, repeated child elements are an array, fields are
sorted by name when inferred, and ``to_xml`` indents by four spaces.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from executors.builtins import SparkFunctionError, builtin

ATTR = "_"
VALUE = "_VALUE"


def parse(xml: str) -> ET.Element | None:
    try:
        return ET.fromstring(xml)
    except ET.ParseError:
        return None


def _text(e: ET.Element) -> str | None:
    t = (e.text or "").strip()
    return t if t else None


def _convert(e: ET.Element, t: dict) -> Any:
    """Element ``e`` as JSON-able data for the Spark type ``t`` (its ``jsonValue``)."""
    kind = t if isinstance(t, str) else t.get("type")
    if kind != "struct":
        return _text(e)
    out: dict[str, Any] = {}
    for f in t["fields"]:
        name, ftype = f["name"], f["type"]
        if name == VALUE:
            out[name] = _text(e)
        elif name.startswith(ATTR) and name[len(ATTR):] in e.attrib:
            out[name] = e.attrib[name[len(ATTR):]]
        else:
            children = [c for c in e if c.tag == name]
            if isinstance(ftype, dict) and ftype.get("type") == "array":
                out[name] = [_convert(c, ftype["elementType"]) for c in children] or None
            elif children:
                out[name] = _convert(children[-1], ftype)
    return out


@builtin("xml_to_json", ["VARCHAR", "VARCHAR"], "VARCHAR")
def xml_to_json(xml: str, schema_json: str) -> str | None:
    """PERMISSIVE: a malformed record is NULL fields (the planner's struct of NULLs)."""
    root = parse(xml)
    if root is None:
        return "{}"
    return json.dumps(_convert(root, json.loads(schema_json)))


def _render(name: str, value: Any, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if value is None:
        return
    if isinstance(value, list):
        for v in value:
            _render(name, v, indent, out)
        return
    if isinstance(value, dict):
        attrs = "".join(
            f' {k[len(ATTR):]}="{_escape(_scalar(v), True)}"'
            for k, v in value.items()
            if k.startswith(ATTR) and k != VALUE and v is not None
        )
        children = {k: v for k, v in value.items() if not k.startswith(ATTR)}
        text = value.get(VALUE)
        if not children:
            body = _escape(_scalar(text)) if text is not None else ""
            out.append(f"{pad}<{name}{attrs}>{body}</{name}>" if body else f"{pad}<{name}{attrs}/>")
            return
        out.append(f"{pad}<{name}{attrs}>")
        for k, v in children.items():
            _render(k, v, indent + 4, out)
        out.append(f"{pad}</{name}>")
        return
    out.append(f"{pad}<{name}>{_escape(_scalar(value))}</{name}>")


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _escape(s: str, attribute: bool = False) -> str:
    """What the StAX writer escapes: ``&`` and ``<`` (and ``"`` in attributes)."""
    s = s.replace("&", "&amp;").replace("<", "&lt;")
    return s.replace('"', "&quot;") if attribute else s


@builtin("to_xml", ["VARCHAR", "VARCHAR"], "VARCHAR")
def to_xml(json_text: str, row_tag: str) -> str:
    out: list[str] = []
    value = json.loads(json_text)
    if not isinstance(value, dict):
        raise SparkFunctionError("[DATATYPE_MISMATCH] to_xml needs a struct value.")
    _render(row_tag, value, 0, out)
    return "\n".join(out)


# --------------------------------------------------------------------------- inference


def _infer_text(s: str | None) -> str:
    if s is None:
        return "STRING"
    v = s.strip()
    try:
        int(v)
        return "BIGINT"
    except ValueError:
        pass
    try:
        float(v)
        return "DOUBLE"
    except ValueError:
        pass
    if v.lower() in ("true", "false"):
        return "BOOLEAN"
    return "STRING"


_ORDER = ["BIGINT", "DOUBLE"]


def _merge(a: str, b: str) -> str:
    if a == b:
        return a
    if a in _ORDER and b in _ORDER:
        return "DOUBLE"
    return "STRING"


def infer(e: ET.Element, exclude_attributes: bool) -> str:
    """Spark's inferred type of an element, as DDL text."""
    fields: dict[str, list[str]] = {}
    if not exclude_attributes:
        for k, v in e.attrib.items():
            fields.setdefault(ATTR + k, []).append(_infer_text(v))
    for c in e:
        fields.setdefault(c.tag, []).append(infer(c, exclude_attributes))
    if not fields:
        return _infer_text(_text(e))
    if _text(e) is not None and not list(e):
        fields[VALUE] = [_infer_text(_text(e))]
    parts = []
    for name in sorted(fields):
        types = fields[name]
        t = types[0]
        for other in types[1:]:
            t = _merge(t, other) if not t.startswith("STRUCT") else t
        parts.append(f"{name}: ARRAY<{t}>" if len(types) > 1 else f"{name}: {t}")
    return f"STRUCT<{', '.join(parts)}>"
