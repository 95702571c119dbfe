"""A task's ``files`` output: DuckDB ``COPY`` into the job's staging dir, named as Spark names.

Spark names a task's files ``part-00005-<uuid>-c000.snappy.parquet`` (the counter after the
job-unique prefix, the codec before the format), writes Hive-style ``col=value`` dirs for
``partitionBy`` without the partition columns in the files, and by default writes CSV
without a header. The commit protocol (driver side) moves the listed files into place, so
the names here only have to be unique per task attempt and recognisable to Spark users.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from shuffle.partitioning import quote_ident

FORMATS = ("parquet", "csv", "json", "text", "orc", "xml")
ARROW_WRITTEN = ("text", "orc", "xml")  # DuckDB's COPY has no such format: written from Arrow

# Spark codec name -> (DuckDB codec, part of the Spark file extension before the format).
PARQUET_CODECS: dict[str, tuple[str, str]] = {
    "snappy": ("snappy", ".snappy"),
    "zstd": ("zstd", ".zstd"),
    "gzip": ("gzip", ".gz"),
    "none": ("uncompressed", ""),
    "uncompressed": ("uncompressed", ""),
}
# Text formats put the codec after the format: part-...-c000.csv.gz
TEXT_CODECS: dict[str, tuple[str, str]] = {
    "none": ("none", ""),
    "uncompressed": ("none", ""),
    "gzip": ("gzip", ".gz"),
    "zstd": ("zstd", ".zst"),
}


@dataclass(frozen=True)
class FilesWritten:
    files: list[str]  # relative to the staging path, "/"-separated
    rows: int
    bytes: int


def sql_string(value: str) -> str:
    """A DuckDB string literal."""
    return "'" + value.replace("'", "''") + "'"


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def _codec(
    table: Mapping[str, tuple[str, str]], options: Mapping[str, Any], default: str
) -> tuple[str, str]:
    name = str(options.get("compression", options.get("codec", default))).lower()
    if name not in table:
        raise ValueError(f"unsupported compression {name!r}; supported: {', '.join(table)}")
    return table[name]


def copy_options(fmt: str, options: Mapping[str, Any]) -> tuple[list[str], str]:
    """(DuckDB COPY options, Spark file extension) for a DataFrameWriter format + options."""
    if fmt == "parquet":
        codec, ext = _codec(PARQUET_CODECS, options, "snappy")
        return ["FORMAT parquet", f"COMPRESSION {codec}"], f"{ext}.parquet"
    if fmt == "csv":
        codec, ext = _codec(TEXT_CODECS, options, "none")
        sep = str(options.get("sep", options.get("delimiter", ",")))
        quote = str(options.get("quote", '"'))
        escape = str(options.get("escape", "\\"))  # Spark escapes quotes with a backslash
        null = str(options.get("nullValue", ""))
        return [
            "FORMAT csv",
            f"HEADER {'true' if _bool(options.get('header', False)) else 'false'}",
            f"DELIMITER {sql_string(sep)}",
            f"QUOTE {sql_string(quote)}",
            f"ESCAPE {sql_string(escape)}",
            f"NULLSTR {sql_string(null)}",
            f"COMPRESSION {codec}",
        ], f".csv{ext}"
    if fmt == "json":
        codec, ext = _codec(TEXT_CODECS, options, "none")
        return ["FORMAT json", f"COMPRESSION {codec}"], f".json{ext}"
    raise ValueError(f"unsupported output format {fmt!r}; supported: {', '.join(FORMATS)}")


_COUNTER = re.compile(r"-c(\d+)\.[^/]*$")

# Spark's ExternalCatalogUtils.charToEscape (off Windows): what escapePathName writes as %XX.
_ESCAPED = {*map(chr, range(1, 0x20)), '"', "#", "%", "'", "*", "/", ":", "=", "?", "\\", "\x7f", "{", "[", "]", "^"}
DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def escape_path_name(value: str) -> str:
    """Spark's ``escapePathName``: only the characters above become ``%XX``; DuckDB's
    PARTITION_BY percent-encodes more (a space as %20), so its directories are renamed."""
    return "".join(f"%{ord(c):02X}" if c in _ESCAPED else c for c in value)


def spark_partition_dirs(rel_dir: str) -> str:
    """DuckDB's ``k=v/...`` directories (URL-encoded) as Spark names them."""
    from urllib.parse import unquote

    parts = []
    for part in rel_dir.split(os.sep) if rel_dir else []:
        key, sep, value = part.partition("=")
        if sep:
            value = unquote(value)
            part = f"{escape_path_name(unquote(key))}={escape_path_name(value) or DEFAULT_PARTITION}"
        parts.append(part)
    return os.path.join(*parts) if parts else ""


def _spark_name(path: str, prefix: str, ext: str) -> str:
    """``<prefix>-c<i>.<duckdb ext>`` → ``<prefix>-c<iii><spark ext>`` in the same dir."""
    match = _COUNTER.search(os.path.basename(path))
    counter = int(match.group(1)) if match else 0
    return os.path.join(os.path.dirname(path), f"{prefix}-c{counter:03d}{ext}")


def write_files(
    con: duckdb.DuckDBPyConnection, fragment: str, output: Mapping[str, Any],
    conf: Mapping[str, str] | None = None,
) -> FilesWritten:
    """Run ``fragment`` and write its rows under ``output["path"]``; see the module docstring.

    A remote path (``s3://``, ``s3a://``, ``sparkless://``: the attempt's staging prefix)
    is written locally first, then each file is uploaded from this function."""
    from storage import files as storage_files

    if storage_files.is_remote(output["path"]):
        import shutil
        import tempfile

        scratch = tempfile.mkdtemp(prefix="sparkless-write-")
        try:
            written = write_files(con, fragment, {**output, "path": scratch})
            for rel in written.files:
                storage_files.upload(
                    os.path.join(scratch, *rel.split("/")),
                    storage_files.join(output["path"], rel), conf,
                )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return written
    root = os.path.abspath(output["path"])
    prefix = output["file_prefix"]
    if "/" in prefix or not prefix:
        raise ValueError(f"file_prefix must be a plain file name prefix, got {prefix!r}")
    fmt = str(output["format"]).lower()
    partition_by = list(output.get("partition_by") or [])
    os.makedirs(root, exist_ok=True)
    if fmt in ARROW_WRITTEN:
        return _write_arrow(con, fragment, fmt, root, prefix, partition_by, output.get("options") or {})
    opts, ext = copy_options(fmt, output.get("options") or {})
    if partition_by:
        target = root
        cols = ", ".join(quote_ident(c) for c in partition_by)
        opts += [
            f"PARTITION_BY ({cols})",
            f"FILENAME_PATTERN {sql_string(prefix + '-c{i}')}",
            "OVERWRITE_OR_IGNORE true",  # other tasks' files share the dirs; names are unique
        ]
    else:
        target = os.path.join(root, f"{prefix}-c000{ext}")
    opts.append("RETURN_FILES true")
    sql = f"COPY ({fragment}) TO {sql_string(target)} ({', '.join(opts)})"
    rows, written = con.execute(sql).fetchone()
    files: list[str] = []
    total = 0
    for path in written:
        final = path
        if partition_by:
            rel = os.path.relpath(path, root)
            final = os.path.join(root, spark_partition_dirs(os.path.dirname(rel)), os.path.basename(rel))
            final = _spark_name(final, prefix, ext)
        if final != path:
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(path, final)
        total += os.path.getsize(final)
        files.append(os.path.relpath(final, root).replace(os.sep, "/"))
    return FilesWritten(files=files, rows=int(rows), bytes=total)


def _write_arrow(
    con: duckdb.DuckDBPyConnection, fragment: str, fmt: str, root: str, prefix: str,
    partition_by: list[str], options: Mapping[str, Any],
) -> FilesWritten:
    """ORC (pyarrow's writer) and text (one string column, a line per row, NULL as an empty
    line, as Spark's TextOutputWriter), with ``partitionBy`` directories named as Spark's."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = con.sql(fragment).to_arrow_table()
    groups: dict[tuple, list[int]] = {}
    if partition_by:
        keys = [table.column(c).to_pylist() for c in partition_by]
        for i, key in enumerate(zip(*keys)):
            groups.setdefault(key, []).append(i)
        data = table.drop_columns(partition_by)
    else:
        groups[()] = list(range(table.num_rows))
        data = table
    files: list[str] = []
    total = 0
    for key, rows in groups.items():
        part = data.take(pa.array(rows, pa.int64())) if partition_by else data
        parts = [
            f"{escape_path_name(c)}={DEFAULT_PARTITION if v is None or v == '' else escape_path_name(str(v))}"
            for c, v in zip(partition_by, key)
        ]
        if fmt == "orc":
            codec = str(options.get("compression", options.get("codec", "snappy"))).lower()
            codec = {"none": "uncompressed"}.get(codec, codec)
            ext = ("" if codec == "uncompressed" else f".{codec}") + ".orc"
        elif fmt == "xml":
            codec, ext = "none", ".xml"
        else:
            codec = str(options.get("compression", "none")).lower()
            ext = ".txt" + {"gzip": ".gz", "none": "", "uncompressed": ""}[codec]
        rel = "/".join([*parts, f"{prefix}-c000{ext}"])
        path = os.path.join(root, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if fmt == "orc":
            import pyarrow.orc as orc

            orc.write_table(part, path, compression=codec)
        elif fmt == "xml":
            with open(path, "w", encoding="utf-8") as f:
                f.write(_xml_document(part, options))
        else:
            import gzip

            sep = str(options.get("lineSep", "\n"))
            values = pc.fill_null(part.column(0).cast(pa.string()), "").to_pylist()
            body = "".join(v + sep for v in values).encode()
            with (gzip.open(path, "wb") if codec == "gzip" else open(path, "wb")) as f:  # noqa: SIM115
                f.write(body)
        total += os.path.getsize(path)
        files.append(rel)
    return FilesWritten(files=files, rows=table.num_rows, bytes=total)


def _xml_document(table: Any, options: Mapping[str, Any]) -> str:
    """Spark's XML writer: a declaration, ``rootTag`` (ROWS) around one ``rowTag`` (ROW)
    element per row, fields as child elements (``_name`` fields as attributes), rendered
    as ``to_xml`` renders a struct (``executors/builtin_xml.py``)."""
    import json

    from executors.builtin_xml import _render

    row_tag = str(options.get("rowTag", "ROW"))
    root_tag = str(options.get("rootTag", "ROWS"))
    declaration = str(options.get("declaration", 'version="1.0" encoding="UTF-8" standalone="yes"'))
    out = [f"<?xml {declaration}?>"] if declaration else []
    out.append(f"<{root_tag}>")
    for row in table.to_pylist():
        _render(row_tag, json.loads(json.dumps(row, default=str)), 4, out)
    out.append(f"</{root_tag}>")
    return "\n".join(out) + "\n"
