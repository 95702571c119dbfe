"""``spark.read`` for parquet, csv and json: list files, infer the schema as Spark does,
and build the DuckDB reader each scan task runs over its share of the files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import urlparse

import duckdb
from pyspark.sql.types import (
    DataType,
    DateType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from sparkless.errors import AnalysisException, unsupported
from sparkless.plan import ir
from sparkless.plan.types import duckdb_type_sql, spark_type_from_duckdb

_PARTITION_DIR = re.compile(r"^([^=/]+)=(.*)$")


def local_path(path: str) -> str:
    """A local path (``s3://`` and other URIs are for ``list_files``, not for this)."""
    if path.startswith("file:"):
        parsed = urlparse(path)
        return parsed.path
    if "://" in path:
        raise unsupported(f"Reading from {path.split('://')[0]}:// paths")
    return os.path.abspath(path)


def _list_remote(raw: str, conf: Mapping[str, str] | None) -> tuple[list[str], list[str]]:
    """``list_files`` for an ``s3://``/``s3a://``/``sparkless://`` path: one recursive
    listing, hidden names skipped below the root, sizes remembered for split planning."""
    import fnmatch

    from storage import files as storage_files

    root, pattern = raw.rstrip("/"), None
    if any(ch in raw for ch in "*?["):  # list the part before the first wildcard, then match
        cut = min(raw.index(ch) for ch in "*?[" if ch in raw)
        root, pattern = raw[:cut].rpartition("/")[0], raw
    try:
        found = storage_files.listing(root, conf)
    except (FileNotFoundError, OSError) as e:
        if isinstance(e, FileNotFoundError) or "NoSuchBucket" in str(e) or "does not exist" in str(e):
            raise path_not_found(raw) from None
        raise AnalysisException(f"Cannot list {raw}: {e}", "CANNOT_READ_FILE") from None
    if found is None:
        raise path_not_found(raw)
    files: list[str] = []
    partitioned: list[str] = []
    kept = []
    for path, size in found:
        rel = path[len(root):].strip("/")
        if pattern is not None:
            depth = pattern[len(root):].strip("/").count("/")
            head = "/".join(rel.split("/")[: depth + 1])
            if not fnmatch.fnmatchcase(f"{root}/{head}", pattern):
                continue
        parts = rel.split("/") if rel else []
        if any(storage_files.hidden(x) for x in parts):
            continue
        for d in parts[:-1]:
            m = _PARTITION_DIR.match(d)
            if m and m.group(1) not in partitioned:
                partitioned.append(m.group(1))
        files.append(path)
        kept.append((path, size))
    if pattern is not None and not kept:
        raise path_not_found(raw)
    storage_files.remember_sizes(kept)
    return files, partitioned


def list_files(
    paths: list[str], conf: Mapping[str, str] | None = None
) -> tuple[list[str], list[str]]:
    """Data files under the given paths (Spark skips names starting with _ or .).

    Returns the files and the names of Hive-style ``key=value`` partition directories.
    """
    from storage import files as storage_files

    files: list[str] = []
    partitioned: list[str] = []
    for raw in paths:
        if storage_files.is_remote(raw):
            sub, part = _list_remote(raw, conf)
            files.extend(sub)
            partitioned += [c for c in part if c not in partitioned]
            continue
        p = local_path(raw)
        if any(ch in p for ch in "*?["):
            import glob

            matches = sorted(glob.glob(p))
            if not matches:
                raise path_not_found(raw)
            for m in matches:
                sub, part = list_files([m])
                files.extend(sub)
                partitioned += [c for c in part if c not in partitioned]
            continue
        if not os.path.exists(p):
            raise path_not_found(raw)
        if os.path.isfile(p):
            files.append(p)
            continue
        for root, dirs, names in os.walk(p):
            dirs[:] = sorted(d for d in dirs if not storage_files.hidden(d))
            for d in dirs:
                m = _PARTITION_DIR.match(d)
                if m and m.group(1) not in partitioned:
                    partitioned.append(m.group(1))
            files.extend(os.path.join(root, n) for n in sorted(names) if not storage_files.hidden(n))
    return files, partitioned


def by_size(files: list[str]) -> list[str]:
    """Largest first, as Spark orders the files it packs into scan tasks (FilePartition's
    next-fit-decreasing): the tasks, and so the rows of a plain read, come in this order."""
    from storage import files as storage_files

    sizes = {f: storage_files.size(f) for f in files}
    return sorted(files, key=lambda f: -sizes[f])


def path_not_found(path: str) -> AnalysisException:
    shown = path if "://" in path or path.startswith("file:") else f"file:{os.path.abspath(path)}"
    return AnalysisException(
        f"Path does not exist: {shown}.",
        "PATH_NOT_FOUND",
        sql_state="42K03",
        parameters={"path": shown},
    )


def _opt(options: dict[str, str], *names: str, default: str | None = None) -> str | None:
    lowered = {k.lower(): v for k, v in options.items()}
    for n in names:
        if n.lower() in lowered:
            return lowered[n.lower()]
    return default


def _true(value: str | None) -> bool:
    return str(value).strip().lower() == "true"


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def read(
    fmt: str,
    paths: list[str],
    options: dict[str, str],
    schema: StructType | None,
    con: duckdb.DuckDBPyConnection,
    conf: Mapping[str, str] | None = None,
    *,
    listed: tuple[list[str], list[str]] | None = None,
) -> ir.Plan:
    """The scan of ``paths``; ``conf`` (the session's settings) says how to reach
    ``s3://`` paths, whose files DuckDB then reads through ``storage.files.register``.
    ``listed``: ``list_files(paths, conf)`` when the caller has already listed them."""
    fmt = fmt.lower()
    if fmt not in ("parquet", "csv", "json", "text", "orc", "xml"):
        raise unsupported(f"The data source format '{fmt}'")
    if not paths:
        raise AnalysisException(
            f"Unable to infer schema for {fmt.capitalize()}. It must be specified manually.",
            "UNABLE_TO_INFER_SCHEMA",
        )
    files, partitioned = listed if listed is not None else list_files(paths, conf)
    files = by_size(files)
    from storage import files as storage_files

    if any(storage_files.is_remote(f) for f in files):
        if fmt in ("orc", "xml"):
            raise unsupported(f"Reading {fmt} from {files[0].split('://')[0]}:// paths")
        storage_files.register(con, conf)  # schema inference and row-group planning read here
    if not files and schema is None:
        raise AnalysisException(
            f"Unable to infer schema for {fmt.capitalize()}. It must be specified manually.",
            "UNABLE_TO_INFER_SCHEMA",
        )
    if fmt == "text":
        return _text_scan(files, partitioned, options, schema, paths)
    if fmt == "orc":
        return _orc_scan(files, partitioned, schema, paths)
    if fmt == "xml":
        return _xml_scan(files, partitioned, options, schema)
    hive = f", hive_partitioning={'true' if partitioned else 'false'}"
    if fmt == "parquet":
        reader = f"read_parquet({{files}}{hive}, union_by_name=true)"
    elif fmt == "csv":
        reader = _csv_reader(options, schema, hive)
    else:
        reader = _json_reader(schema, hive)
    source_types = _describe(con, reader, files) if files else []
    if fmt == "parquet" and len(files) > 1:
        reader = _every_column(reader, source_types)
    if schema is not None:
        fields = list(schema.fields)
        select = []
        lowered = {c.lower() for c in partitioned}
        data_cols = [c for c, _ in source_types if c.lower() not in lowered]
        data_fields = [f for f in fields if f.name.lower() not in lowered]
        for f in fields:
            if fmt == "csv" and f.name.lower() not in lowered:
                # Spark maps a CSV schema to the file's columns by position.
                i = data_fields.index(f)
                src = data_cols[i] if i < len(data_cols) else None
            else:
                src = _match(source_types, f.name)
            if src is None:
                select.append(f"CAST(NULL AS {duckdb_type_sql(f.dataType)})")
            else:
                select.append(f'TRY_CAST("{src}" AS {duckdb_type_sql(f.dataType)})')
    else:
        fields, select = _infer(fmt, source_types, options, con, reader, files)
    attrs = [ir.Attribute(f.name, f.dataType, True) for f in fields]
    cols = ", ".join(f"{s} AS {a.col}" for s, a in zip(select, attrs))
    return ir.FileScan(
        fmt, files, attrs, f"SELECT {cols or '1 AS __empty'} FROM {reader}", root_paths=list(paths)
    )


def _text_scan(
    files: list[str], partitioned: list[str], options: dict[str, str], schema: StructType | None,
    paths: list[str],
) -> ir.Plan:
    """Spark's text source: one string column (``value``, or the given schema's one field),
    a row per line (LF, CRLF or CR; a final line break ends the last line),
    or a row per file with ``wholetext``. DuckDB's read_text gives each file's content."""
    if partitioned:
        raise unsupported("Reading partitioned directories as text")
    if schema is not None and (len(schema.fields) != 1 or not isinstance(schema.fields[0].dataType, StringType)):
        raise AnalysisException(
            f"Text data source supports only a single column of string type, and the schema is "
            f"{schema.simpleString()}.", "UNSUPPORTED_DATA_TYPE_FOR_DATASOURCE",
        )
    name = schema.fields[0].name if schema is not None else "value"
    attr = ir.Attribute(name, StringType(), True)
    if _true(_opt(options, "wholetext", default="false")):
        sql = f"SELECT content AS {attr.col} FROM read_text({{files}})"
    else:
        sep = _opt(options, "lineSep")
        split = (
            f"string_split(content, {_sql_str(sep)})"
            if sep else r"regexp_split_to_array(content, '\r\n|\r|\n')"
        )
        trimmed = (
            f"CASE WHEN content = '' THEN []::VARCHAR[] "
            f"WHEN {split}[-1] = '' THEN {split}[:-2] ELSE {split} END"
        )
        sql = f"SELECT unnest({trimmed}) AS {attr.col} FROM read_text({{files}})"
    return ir.FileScan("text", files, [attr], sql, root_paths=list(paths))


ORC_DRIVER_LIMIT = 256 * 1024 * 1024  # ORC and XML files are parsed on the driver


def _orc_scan(
    files: list[str], partitioned: list[str], schema: StructType | None, paths: list[str]
) -> ir.Plan:
    """ORC files, read with pyarrow's ORC reader on the driver into a local relation:
    DuckDB has no ORC reader and the task SQL has no Python table source, so this is
    bounded (ORC_DRIVER_LIMIT bytes) rather than distributed."""
    import pyarrow as pa
    import pyarrow.orc as orc

    from sparkless.plan.types import arrow_schema_of, spark_type_from_arrow

    if partitioned:
        raise unsupported("Reading partitioned ORC directories")
    total = sum(os.path.getsize(f) for f in files)
    if total > ORC_DRIVER_LIMIT:
        raise unsupported(f"Reading more than {ORC_DRIVER_LIMIT} bytes of ORC (read on the driver)")
    tables = [orc.ORCFile(f).read() for f in files]
    if schema is not None:
        target = arrow_schema_of(schema)
        out = []
        for t in tables:
            cols = {c.lower(): i for i, c in enumerate(t.column_names)}
            arrays = [
                t.column(cols[f.name.lower()]).cast(target.field(i).type)
                if f.name.lower() in cols else pa.nulls(t.num_rows, target.field(i).type)
                for i, f in enumerate(schema.fields)
            ]
            out.append(pa.Table.from_arrays(arrays, schema=target))
        table = pa.concat_tables(out) if out else target.empty_table()
    elif tables:
        table = pa.concat_tables(tables, promote_options="default")
        schema = StructType([StructField(f.name, spark_type_from_arrow(f.type), True) for f in table.schema])
    else:
        raise AnalysisException(
            "Unable to infer schema for ORC. It must be specified manually.", "UNABLE_TO_INFER_SCHEMA"
        )
    attrs = [ir.Attribute(f.name, f.dataType, True) for f in schema.fields]
    return ir.LocalRelation(table.rename_columns([a.col for a in attrs]), attrs)


def _xml_scan(
    files: list[str], partitioned: list[str], options: dict[str, str], schema: StructType | None
) -> ir.Plan:
    """Spark's XML source (spark-xml's conventions, ``executors/builtin_xml.py``): every
    ``rowTag`` element is a row, its schema inferred (fields sorted by name, attributes as
    ``_name``) and merged over the rows. Read on the driver with Python's XML parser into a
    local relation, as ORC is: DuckDB has no XML reader."""
    import json
    import xml.etree.ElementTree as ET

    import pyarrow as pa

    from executors.builtin_xml import _convert, infer
    from sparkless.plan.types import arrow_schema_of, parse_ddl

    if partitioned:
        raise unsupported("Reading partitioned XML directories")
    if sum(os.path.getsize(f) for f in files) > ORC_DRIVER_LIMIT:
        raise unsupported(f"Reading more than {ORC_DRIVER_LIMIT} bytes of XML (read on the driver)")
    row_tag = _opt(options, "rowTag", default="ROW") or "ROW"
    exclude = _true(_opt(options, "excludeAttribute", default="false"))
    rows = []
    for f in files:
        with open(f, encoding=_opt(options, "encoding", "charset", default="utf-8") or "utf-8") as fh:
            text = re.sub(r"^\s*<\?xml[^>]*\?>", "", fh.read())
        try:
            root = ET.fromstring(f"<sparkless-root>{text}</sparkless-root>")
        except ET.ParseError as e:
            raise AnalysisException(f"Cannot read {f} as XML: {e}", "CANNOT_READ_FILE") from None
        rows.extend(e for e in root.iter(row_tag))
    if schema is None:
        merged: DataType | None = None
        for e in rows:
            t = parse_ddl(infer(e, exclude))
            merged = t if merged is None else _merge_xml_types(merged, t)
        if not isinstance(merged, StructType):
            raise AnalysisException(
                "Unable to infer schema for XML. It must be specified manually.", "UNABLE_TO_INFER_SCHEMA"
            )
        schema = merged
    spec = json.loads(schema.json())
    data = [_convert(e, spec) for e in rows]
    texts = pa.schema([pa.field(f.name, _as_text(f.dataType)) for f in schema.fields])
    table = pa.Table.from_pylist([d if isinstance(d, dict) else {} for d in data], schema=texts)
    target = arrow_schema_of(schema)
    table = pa.Table.from_arrays(
        [c.cast(f.type) for c, f in zip(table.columns, target)], schema=target
    )
    attrs = [ir.Attribute(f.name, f.dataType, True) for f in schema.fields]
    return ir.LocalRelation(table.rename_columns([a.col for a in attrs]), attrs)


def _as_text(dt: DataType):  # noqa: ANN202 - a pyarrow type
    """The Arrow shape of ``dt`` with every leaf a string (what the XML parser yields)."""
    import pyarrow as pa
    from pyspark.sql.types import ArrayType

    if isinstance(dt, StructType):
        return pa.struct([pa.field(f.name, _as_text(f.dataType)) for f in dt.fields])
    if isinstance(dt, ArrayType):
        return pa.list_(_as_text(dt.elementType))
    return pa.string()


def _merge_xml_types(a: DataType, b: DataType) -> DataType:
    """Two rows' inferred types as one: fields united (sorted by name), numbers widened,
    an element seen once and repeated elsewhere an array, anything else a string."""
    from pyspark.sql.types import ArrayType, DoubleType, NumericType

    if a == b:
        return a
    if isinstance(a, StructType) and isinstance(b, StructType):
        fa, fb = {f.name: f.dataType for f in a.fields}, {f.name: f.dataType for f in b.fields}
        return StructType([
            StructField(n, _merge_xml_types(fa[n], fb[n]) if n in fa and n in fb else fa.get(n) or fb[n], True)
            for n in sorted(set(fa) | set(fb))
        ])
    if isinstance(a, ArrayType) or isinstance(b, ArrayType):
        ea = a.elementType if isinstance(a, ArrayType) else a
        eb = b.elementType if isinstance(b, ArrayType) else b
        return ArrayType(_merge_xml_types(ea, eb), True)
    if isinstance(a, NumericType) and isinstance(b, NumericType):
        return DoubleType()
    return StringType()


def _every_column(reader: str, source_types: list) -> str:
    """A scan split reads some of the files; with merged schemas a column may be missing
    from all of them. UNION ALL BY NAME with an empty row of every column gives each
    split the merged columns (NULL where absent), as reading all files at once does."""
    nulls = ", ".join(f'CAST(NULL AS {t}) AS "{c}"' for c, t in source_types)
    return f"((SELECT * FROM {reader}) UNION ALL BY NAME (SELECT {nulls} LIMIT 0))"


def _csv_reader(options: dict[str, str], schema: StructType | None, hive: str) -> str:
    header = _true(_opt(options, "header", default="false"))
    sep = _opt(options, "sep", "delimiter", default=",")
    quote = _opt(options, "quote", default='"')
    escape = _opt(options, "escape", default="\\")
    null_value = _opt(options, "nullValue", default="")
    args = [
        f"header={'true' if header else 'false'}",
        f"delim={_sql_str(sep or ',')}",
        f"quote={_sql_str(quote or '')}",
        f"escape={_sql_str(escape or '')}",
        f"nullstr={_sql_str(null_value or '')}",
        "all_varchar=true",
        "strict_mode=false",
    ]
    if not header:
        pass
    return f"read_csv({{files}}, {', '.join(args)}{hive}, union_by_name=true)"


def _json_reader(schema: StructType | None, hive: str) -> str:
    return f"read_json({{files}}, format='newline_delimited'{hive}, union_by_name=true)"


def _describe(
    con: duckdb.DuckDBPyConnection, reader: str, files: list[str]
) -> list[tuple[str, duckdb.DuckDBPyType]]:
    from sparkless.physical.planner import sql_list

    try:
        rel = con.sql(f"SELECT * FROM {reader.replace('{files}', sql_list(files))}")
    except duckdb.Error as e:
        raise AnalysisException(f"Cannot read {files[0]}: {e}", "CANNOT_READ_FILE") from None
    return list(zip(rel.columns, rel.types))


def _match(source: list[tuple[str, duckdb.DuckDBPyType]], name: str) -> str | None:
    for col, _ in source:
        if col.lower() == name.lower():
            return col
    return None


def _infer(
    fmt: str,
    source: list[tuple[str, duckdb.DuckDBPyType]],
    options: dict[str, str],
    con: duckdb.DuckDBPyConnection,
    reader: str,
    files: list[str],
) -> tuple[list[StructField], list[str]]:
    from sparkless.physical.planner import sql_list

    fields: list[StructField] = []
    select: list[str] = []
    if fmt == "csv":
        header = _true(_opt(options, "header", default="false"))
        infer = _true(_opt(options, "inferSchema", default="false"))
        names = [c for c, _ in source] if header else [f"_c{i}" for i in range(len(source))]
        types: list[DataType] = [StringType()] * len(source)
        if infer and source:
            types = _infer_csv_types(
                con, reader.replace("{files}", sql_list(files)), [c for c, _ in source]
            )
        for (col, _), name, t in zip(source, names, types):
            fields.append(StructField(name, t, True))
            select.append(
                f'TRY_CAST("{col}" AS {duckdb_type_sql(t)})'
                if not isinstance(t, StringType)
                else f'"{col}"'
            )
        return fields, select
    for col, t in source:
        dt = spark_type_from_duckdb(t)
        expr = f'"{col}"'
        if fmt == "json":
            if isinstance(dt, (DateType, TimestampType, TimestampNTZType)) or str(t) in (
                "UUID",
                "TIME",
            ):
                dt, expr = StringType(), f'CAST("{col}" AS VARCHAR)'
            elif isinstance(dt, IntegerType):
                dt, expr = LongType(), f'CAST("{col}" AS BIGINT)'
        fields.append(StructField(col, dt, True))
        select.append(expr)
    if fmt == "json":  # Spark orders inferred JSON fields by name
        order = sorted(range(len(fields)), key=lambda i: fields[i].name)
        fields = [fields[i] for i in order]
        select = [select[i] for i in order]
    return fields, select


def _infer_csv_types(
    con: duckdb.DuckDBPyConnection, source_sql: str, cols: list[str]
) -> list[DataType]:
    """Spark's CSV inference: int, then long, then double, boolean, date, timestamp, string."""
    from pyspark.sql.types import BooleanType, DoubleType

    checks = []
    for c in cols:
        q = f'CAST("{c}" AS VARCHAR)'  # hive partition columns come typed
        checks.append(
            f"bool_and({q} IS NULL OR (regexp_full_match(trim({q}), '[+-]?[0-9]+') "
            f"AND TRY_CAST({q} AS INTEGER) IS NOT NULL)), "
            f"bool_and({q} IS NULL OR (regexp_full_match(trim({q}), '[+-]?[0-9]+') "
            f"AND TRY_CAST({q} AS BIGINT) IS NOT NULL)), "
            f"bool_and({q} IS NULL OR TRY_CAST({q} AS DOUBLE) IS NOT NULL), "
            f"bool_and({q} IS NULL OR lower({q}) IN ('true', 'false')), "
            f"bool_and({q} IS NULL OR regexp_full_match({q}, '\\d{{4}}-\\d{{2}}-\\d{{2}}')), "
            f"bool_and({q} IS NULL OR TRY_CAST({q} AS TIMESTAMP) IS NOT NULL)"
        )
    row = con.sql(f"SELECT {', '.join(checks)} FROM (SELECT * FROM {source_sql})").fetchall()[0]
    out: list[DataType] = []
    for i in range(len(cols)):
        is_int, is_long, is_double, is_bool, is_date, is_ts = row[i * 6 : i * 6 + 6]
        if is_int is None:  # all values null
            out.append(StringType())
        elif is_int:
            out.append(IntegerType())
        elif is_long:
            out.append(LongType())
        elif is_double:
            out.append(DoubleType())
        elif is_bool:
            out.append(BooleanType())
        elif is_date:
            out.append(DateType())
        elif is_ts:
            out.append(TimestampType())
        else:
            out.append(StringType())
    return out
