"""Python built-ins for text formats: XPath over XML, CSV records, URLs, base32.

XPath uses ``elementpath`` (XPath 1.0, as Spark's javax.xml evaluator): DuckDB has no XML
support and the standard library's ElementTree knows only a path subset (no ``sum()``,
``boolean()``). Evaluation starts at the document node, as in Java, so ``a/b`` matches the
root element ``a``.
"""

from __future__ import annotations

import base64
import binascii
import csv
import math
import re
import urllib.parse
import xml.etree.ElementTree as ET
from functools import lru_cache
from typing import Any

from executors.builtins import SparkFunctionError, builtin

# --------------------------------------------------------------------------- XPath


def _document(xml: str) -> ET.ElementTree:
    try:
        return ET.ElementTree(ET.fromstring(xml))
    except ET.ParseError as e:
        raise SparkFunctionError(
            f"[INVALID_XML_INPUT] Invalid XML document: {e}"
        ) from None


@lru_cache(maxsize=256)
def _compiled(path: str) -> Any:
    import elementpath

    try:
        return elementpath.XPath1Parser().parse(path)
    except elementpath.ElementPathError as e:
        raise SparkFunctionError(f"[INVALID_XPATH] Invalid XPath '{path}': {e}") from None


def _eval(xml: str, path: str, wrap: str | None = None) -> Any:
    """The value of ``path`` (or ``wrap(path)``: XPath's own conversion) over ``xml``."""
    import elementpath

    if not xml:
        return None
    doc = _document(xml)
    root = _compiled(f"{wrap}({path})" if wrap else path)
    return root.get_results(elementpath.XPathContext(doc))


@builtin("xpath", ["VARCHAR", "VARCHAR"], "VARCHAR[]")
def xpath(xml: str, path: str) -> list[str | None] | None:
    """Spark's ``xpath``: each node's value (text and attributes; elements have none)."""
    result = _eval(xml, path)
    if result is None:
        return None
    if not isinstance(result, list):
        raise SparkFunctionError(f"[INVALID_XPATH] XPath '{path}' does not select nodes.")
    out: list[str | None] = []
    for node in result:
        value = getattr(node, "value", node)  # attribute nodes carry .value
        out.append(value if isinstance(value, str) else None)
    return out


@builtin("xpath_boolean", ["VARCHAR", "VARCHAR"], "BOOLEAN")
def xpath_boolean(xml: str, path: str) -> bool | None:
    result = _eval(xml, path, "boolean")
    return None if result is None else bool(result)


@builtin("xpath_string", ["VARCHAR", "VARCHAR"], "VARCHAR")
def xpath_string(xml: str, path: str) -> str | None:
    result = _eval(xml, path, "string")
    return None if result is None else str(result)


def _number(xml: str, path: str) -> float | None:
    result = _eval(xml, path, "number")
    return None if result is None else float(result)


@builtin("xpath_double", ["VARCHAR", "VARCHAR"], "VARCHAR")
def xpath_double(xml: str, path: str) -> str | None:
    """As text: DuckDB turns a Python NaN result into NULL (the planner casts to DOUBLE)."""
    d = _number(xml, path)
    return None if d is None else repr(d)


def _java_long(d: float, bits: int) -> int:
    """Java's ``Double.longValue``/``intValue`` (NaN is 0, saturating)."""
    if math.isnan(d):
        return 0
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return hi if d >= hi else lo if d <= lo else int(d)


@builtin("xpath_long", ["VARCHAR", "VARCHAR"], "BIGINT")
def xpath_long(xml: str, path: str) -> int | None:
    d = _number(xml, path)
    return None if d is None else _java_long(d, 64)


@builtin("xpath_int", ["VARCHAR", "VARCHAR"], "INTEGER")
def xpath_int(xml: str, path: str) -> int | None:
    d = _number(xml, path)
    return None if d is None else _java_long(d, 32)


@builtin("xpath_short", ["VARCHAR", "VARCHAR"], "SMALLINT")
def xpath_short(xml: str, path: str) -> int | None:
    """``Double.shortValue`` is ``(short) intValue``: the int wraps to 16 bits."""
    d = _number(xml, path)
    if d is None:
        return None
    return ((_java_long(d, 32) + (1 << 15)) % (1 << 16)) - (1 << 15)


# --------------------------------------------------------------------------- CSV


@builtin("csv_fields", ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "BOOLEAN", "BOOLEAN"],
         "VARCHAR[]")
def csv_fields(
    line: str, sep: str, quote: str, escape: str, lead: bool, trail: bool
) -> list[str | None]:
    """One CSV record's fields; an empty unquoted field is NULL (Spark's nullValue "")."""
    reader = csv.reader(
        [line], delimiter=sep, quotechar=quote or None, escapechar=escape or None,
        skipinitialspace=lead, strict=False,
    )
    raw = next(reader, [])
    quoted = _quoted_flags(line, sep, quote)
    out: list[str | None] = []
    for i, value in enumerate(raw):
        if trail and not (i < len(quoted) and quoted[i]):
            value = value.rstrip()
        out.append(None if value == "" and not (i < len(quoted) and quoted[i]) else value)
    return out


def _quoted_flags(line: str, sep: str, quote: str) -> list[bool]:
    """Which fields of ``line`` start with the quote character (after blanks)."""
    if not quote:
        return []
    return [f.lstrip().startswith(quote) for f in line.split(sep)]


# --------------------------------------------------------------------------- URLs

# java.net.URI accepts RFC 2396 characters and %XX escapes only.
_URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-_.!~*'();/?:@&=+$,\[\]#]|%[0-9A-Fa-f]{2})*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")


def _uri(url: str) -> urllib.parse.SplitResult | None:
    if not _URI_CHARS.match(url) or url.count("#") > 1:
        return None
    head = re.split(r"[/?#]", url, maxsplit=1)[0]
    if ":" in head and not _SCHEME.match(head.split(":", 1)[0]):
        return None
    try:
        return urllib.parse.urlsplit(url)
    except ValueError:
        return None


@builtin("parse_url", ["VARCHAR", "VARCHAR", "VARCHAR", "BOOLEAN"], "VARCHAR",
         special_nulls=True)
def parse_url(url: str | None, part: str | None, key: str | None, strict: bool) -> str | None:
    """Spark's ``parse_url`` (java.net.URI's raw parts); ``key`` only for QUERY."""
    if url is None or part is None:
        return None
    u = _uri(url)
    if u is None:
        if strict:
            raise SparkFunctionError(
                f"[INVALID_URL] The url is invalid: {url}. Use `try_parse_url` to tolerate "
                "invalid URL and return NULL instead."
            )
        return None
    query = u.query if "?" in url else None
    if part == "QUERY" and key is not None:
        if query is None:
            return None
        m = re.search(r"(?:&|^)" + re.escape(key) + r"=([^&]*)", query)
        return m.group(1) if m else None
    if key is not None:
        return None
    netloc = u.netloc if "//" in url else None
    values = {
        "HOST": u.hostname if netloc else None,
        "PATH": u.path if (u.scheme == "" or netloc is not None or u.path) else None,
        "QUERY": query,
        "REF": u.fragment if "#" in url else None,
        "PROTOCOL": u.scheme or None,
        "FILE": u.path + ("?" + query if query is not None else ""),
        "AUTHORITY": netloc or None,
        "USERINFO": netloc.rsplit("@", 1)[0] if netloc and "@" in netloc else None,
    }
    return values.get(part)


@builtin("url_decode", ["VARCHAR", "BOOLEAN"], "VARCHAR")
def url_decode(s: str, strict: bool) -> str | None:
    """java.net.URLDecoder: ``+`` is a space; a bad ``%`` escape is an error (try: NULL)."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", s):
        if strict:
            raise SparkFunctionError(
                f"[CANNOT_DECODE_URL] The provided URL cannot be decoded: {s}. Please ensure "
                "that the URL is properly formatted and try again."
            )
        return None
    return urllib.parse.unquote_plus(s, errors="replace")


# --------------------------------------------------------------------------- base32


@builtin("to_base32", ["BLOB"], "VARCHAR")
def to_base32(b: bytes) -> str:
    return base64.b32encode(b).decode("ascii")


@builtin("from_base32", ["VARCHAR"], "BLOB")
def from_base32(s: str) -> bytes | None:
    try:
        return base64.b32decode(s.strip().upper())
    except (binascii.Error, ValueError):
        return None
