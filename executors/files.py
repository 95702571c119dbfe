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

FORMATS = ("parquet", "csv", "json")

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


def _spark_name(path: str, prefix: str, ext: str) -> str:
    """``<prefix>-c<i>.<duckdb ext>`` → ``<prefix>-c<iii><spark ext>`` in the same dir."""
    match = _COUNTER.search(os.path.basename(path))
    counter = int(match.group(1)) if match else 0
    return os.path.join(os.path.dirname(path), f"{prefix}-c{counter:03d}{ext}")


def write_files(
    con: duckdb.DuckDBPyConnection, fragment: str, output: Mapping[str, Any]
) -> FilesWritten:
    """Run ``fragment`` and write its rows under ``output["path"]``; see the module docstring."""
    root = os.path.abspath(output["path"])
    prefix = output["file_prefix"]
    if "/" in prefix or not prefix:
        raise ValueError(f"file_prefix must be a plain file name prefix, got {prefix!r}")
    opts, ext = copy_options(str(output["format"]).lower(), output.get("options") or {})
    partition_by = list(output.get("partition_by") or [])
    os.makedirs(root, exist_ok=True)
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
        final = _spark_name(path, prefix, ext) if partition_by else path
        if final != path:
            os.replace(path, final)
        total += os.path.getsize(final)
        files.append(os.path.relpath(final, root).replace(os.sep, "/"))
    return FilesWritten(files=files, rows=int(rows), bytes=total)
