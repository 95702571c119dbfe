"""Tables from Connect: saveAsTable / insertInto, ``spark.catalog.*`` (the ``Catalog``
relation) and SQL DDL/DML (CREATE/DROP TABLE|VIEW|DATABASE, INSERT, USE, SHOW TABLES).

The metadata lives in sparkless/catalog.py; data is written through the planner's
atomic file writer (``ConnectPlanner.write_files``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pyarrow as pa
import sqlglot
from pyspark.sql.connect.proto import catalog_pb2 as cpb
from pyspark.sql.connect.proto import commands_pb2 as cmdpb
from pyspark.sql.connect.proto import relations_pb2 as rpb
from pyspark.sql.types import StructField, StructType
from sqlglot import exp
from sqlglot.errors import ParseError

from sparkless import catalog as C
from sparkless.connect.expressions import split_identifier
from sparkless.errors import AnalysisException, unsupported
from sparkless.plan import ir
from sparkless.plan.analyzer import Analyzer, cast_sql
from sparkless.plan.types import duckdb_type_sql, parse_ddl

if TYPE_CHECKING:
    from sparkless.connect.planner import ConnectPlanner
    from sparkless.connect.relations import RelationConverter
    from sparkless.connect.session import Session

_MODES = {
    cmdpb.WriteOperation.SAVE_MODE_UNSPECIFIED: "error",
    cmdpb.WriteOperation.SAVE_MODE_ERROR_IF_EXISTS: "error",
    cmdpb.WriteOperation.SAVE_MODE_OVERWRITE: "overwrite",
    cmdpb.WriteOperation.SAVE_MODE_APPEND: "append",
    cmdpb.WriteOperation.SAVE_MODE_IGNORE: "ignore",
}


# ---- writing tables --------------------------------------------------------------------


def write_table(planner: ConnectPlanner, w: cmdpb.WriteOperation) -> None:
    session = planner.session
    parts = split_identifier(w.table.table_name)
    with session.lock:
        logical = planner.relations.convert(w.input)
    mode = _MODES[w.mode]
    if w.table.save_method == cmdpb.WriteOperation.SaveTable.TABLE_SAVE_METHOD_INSERT_INTO:
        meta = _existing(session, parts)
        insert(planner, meta, logical, overwrite=mode == "overwrite")
        return
    save_as_table(
        planner,
        parts,
        logical,
        (w.source or "").lower() or None,
        mode,
        list(w.partitioning_columns),
        dict(w.options),
    )


def _existing(session: Session, parts: list[str]) -> C.TableMeta:
    n = C.resolve_name(session, parts, views=False)
    cat = C.catalog_of(session.engine)
    meta = cat.get(n.db, n.name) if n.kind == "table" else None
    if meta is None:
        raise C.not_found(parts)
    return meta


def save_as_table(
    planner: ConnectPlanner,
    parts: list[str],
    logical: ir.Plan,
    fmt: str | None,
    mode: str,
    partition_by: list[str],
    options: dict[str, str],
    location: str | None = None,
) -> None:
    session = planner.session
    cat = C.catalog_of(session.engine)
    n = C.resolve_name(session, parts, views=False)
    if n.kind != "table":
        raise unsupported("Saving a table in the global_temp database")
    cat.check_db(n.db)
    with cat.lock:
        meta = cat.get(n.db, n.name)
        if meta is not None:
            if mode == "error":
                raise C.already_exists([C.CATALOG, n.db, n.name])
            if mode == "ignore":
                return
            if mode == "append":
                insert(planner, meta, _by_name(logical, meta), overwrite=False)
                return
            _check_not_read(logical, meta)
            # No drop first: the committer swaps the new directory in whole, metadata after.
        fmt = fmt or session.conf.get("spark.sql.sources.default") or "parquet"
        if partition_by:
            keys = {p.lower() for p in partition_by}
            cols = [a for a in logical.output if a.name.lower() not in keys]
            cols += [a for p in partition_by for a in logical.output if a.name.lower() == p.lower()]
            logical = ir.Project(logical, [ir.NamedExpr(Analyzer._ref(a), a) for a in cols])
        target = location or str(cat.table_dir(n.db, n.name))
        meta = C.TableMeta(
            n.db,
            n.name,
            fmt,
            _nullable(logical.schema()),
            target,
            list(partition_by),
            options,
            managed=location is None,
        )
        planner.write_files(logical, target, fmt, "overwrite", partition_by, options)
        cat.save(meta)


def _check_not_read(logical: ir.Plan, meta: C.TableMeta) -> None:
    """Overwriting a table the query reads would delete its input first: Spark refuses."""
    from storage.files import same_or_under

    for node in ir.walk(logical):
        if isinstance(node, ir.FileScan) and any(
            same_or_under(f, meta.location) for f in [*node.files, *node.root_paths]
        ):
            raise AnalysisException(
                "Can't overwrite the target that is also being read from.",
                "UNSUPPORTED_OVERWRITE.TABLE",
                sql_state="42902",
                parameters={"table": C.quoted(C.CATALOG, meta.db, meta.name)},
            )


def _nullable(schema: StructType) -> StructType:
    """Tables of files read back nullable (Spark's ``asNullable`` for data source tables)."""
    return StructType([StructField(f.name, f.dataType, True, f.metadata) for f in schema.fields])


def _arity_error(meta: C.TableMeta, data: list[str], reason: str) -> AnalysisException:
    return AnalysisException(
        f"Cannot write to {C.quoted(C.CATALOG, meta.db, meta.name)}, the reason is {reason} data "
        f"columns:\nTable columns: {', '.join(f'`{f.name}`' for f in meta.schema.fields)}.\n"
        f"Data columns: {', '.join(f'`{n}`' for n in data)}.",
        "INSERT_COLUMN_ARITY_MISMATCH." + reason.upper().replace(" ", "_") + "_DATA_COLUMNS",
        sql_state="21S01",
    )


def _by_name(logical: ir.Plan, meta: C.TableMeta) -> ir.Plan:
    by_name = {a.name.lower(): a for a in logical.output}
    cols = []
    for f in meta.schema.fields:
        a = by_name.get(f.name.lower())
        if a is None:
            raise _arity_error(meta, [x.name for x in logical.output], "not enough")
        cols.append(a)
    return ir.Project(logical, [ir.NamedExpr(Analyzer._ref(a), a) for a in cols])


def insert(planner: ConnectPlanner, meta: C.TableMeta, logical: ir.Plan, overwrite: bool) -> None:
    """INSERT INTO / insertInto: by position, cast to the table's column types."""
    if meta.view_text is not None:
        raise AnalysisException(
            f"{C.quoted(C.CATALOG, meta.db, meta.name)} is a view; INSERT INTO a view is not allowed.",
            "EXPECT_TABLE_NOT_VIEW.NO_ALTERNATIVE",
        )
    fields = meta.schema.fields
    if len(logical.output) != len(fields):
        reason = "too many" if len(logical.output) > len(fields) else "not enough"
        raise _arity_error(meta, [a.name for a in logical.output], reason)
    exprs = []
    for a, f in zip(logical.output, fields):
        e: exp.Expression = Analyzer._ref(a)
        if duckdb_type_sql(a.dtype) != duckdb_type_sql(f.dataType):
            e = cast_sql(e, f.dataType)
        exprs.append(ir.NamedExpr(e, ir.Attribute(f.name, f.dataType, True)))
    plan = ir.Project(logical, exprs)
    if overwrite:
        _check_not_read(logical, meta)
    cat = C.catalog_of(planner.session.engine)
    with cat.lock:
        planner.write_files(
            plan,
            meta.location,
            meta.fmt,
            "overwrite" if overwrite else "append",
            meta.partition_by,
            meta.options,
        )
        if meta.managed:
            cat.save(meta)  # an overwrite replaced the directory, metadata file included


def create_empty_table(
    session: Session,
    parts: list[str],
    schema: StructType | None,
    fmt: str,
    partition_by: list[str],
    options: dict[str, str],
    location: str | None,
    if_not_exists: bool = False,
    replace: bool = False,
    comment: str | None = None,
    properties: dict[str, str] | None = None,
) -> None:
    cat = C.catalog_of(session.engine)
    n = C.resolve_name(session, parts, views=False)
    cat.check_db(n.db)
    with cat.lock:
        meta = cat.get(n.db, n.name)
        if meta is not None:
            if if_not_exists:
                return
            if not replace:
                raise C.already_exists([C.CATALOG, n.db, n.name])
            cat.drop(meta)
        if schema is None or not schema.fields:
            if location is None:
                raise AnalysisException(
                    f"Unable to infer schema for {fmt.capitalize()}. It must be specified manually.",
                    "UNABLE_TO_INFER_SCHEMA",
                )
            from sparkless.plan import sources

            schema = sources.read(
                fmt, [location], options, None, session.oracle.con, session.conf.snapshot()
            ).schema()
        if partition_by:  # partition columns come last in a table's schema, as in Spark
            keys = [p.lower() for p in partition_by]
            fields = [f for f in schema.fields if f.name.lower() not in keys]
            fields += [f for k in keys for f in schema.fields if f.name.lower() == k]
            schema = StructType(fields)
        meta = C.TableMeta(
            n.db,
            n.name,
            fmt,
            _nullable(schema),
            location or str(cat.table_dir(n.db, n.name)),
            partition_by,
            options,
            managed=location is None,
            comment=comment,
            properties=dict(properties or {}),
        )
        cat.save(meta)


def drop_table(session: Session, parts: list[str], if_exists: bool, view: bool = False) -> bool:
    cat = C.catalog_of(session.engine)
    n = C.resolve_name(session, parts)
    if n.kind == "temp":
        return C.drop_temp_view(session, n.name)
    if n.kind == "global":
        if C.drop_global_view(session, n.name) or if_exists:
            return True
        raise C.not_found(parts)
    meta = cat.get(n.db, n.name) if cat.database_exists(n.db) else None
    if meta is None:
        if if_exists:
            return False
        raise C.not_found(parts)
    if view and meta.view_text is None:  # (Spark's DROP TABLE drops a view too)
        want, found = "VIEW", "TABLE"
        shown = C.quoted(C.CATALOG, n.db, n.name)
        raise AnalysisException(
            f"The operation DROP {want} requires a {want}. But {shown} is a {found}. "
            f"Use DROP {found} instead.",
            "WRONG_COMMAND_FOR_OBJECT_TYPE",
            sql_state="42809",
            parameters={
                "operation": f"DROP {want}",
                "requiredType": want,
                "objectName": shown,
                "foundType": found,
                "alternative": f"DROP {found}",
            },
        )
    cat.drop(meta)
    return True


# ---- spark.catalog.* -----------------------------------------------------------------

_TABLE_FIELDS = [
    ("name", pa.string()),
    ("catalog", pa.string()),
    ("namespace", pa.list_(pa.string())),
    ("description", pa.string()),
    ("tableType", pa.string()),
    ("isTemporary", pa.bool_()),
]


def _rows(fields: list[tuple], rows: list[tuple]) -> pa.Table:
    """(name, type[, nullable]) fields and row tuples as an Arrow table."""
    schema = pa.schema([pa.field(*f) for f in fields])
    return pa.Table.from_pylist([dict(zip(schema.names, r)) for r in rows], schema=schema)


def _one(name: str, value, typ: pa.DataType) -> pa.Table:  # noqa: ANN001
    return _rows([(name, typ)], [(value,)])


def _table_rows(
    session: Session, db: str | None, pattern: str | None, views_only: bool = False
) -> list[tuple]:
    cat = C.catalog_of(session.engine)
    db = (db or C.current_db(session)).lower()
    rows = []
    if db == C.GLOBAL_TEMP:
        for name in sorted(cat.global_views):
            if C.matches(name, pattern):
                rows.append((name, None, [C.GLOBAL_TEMP], None, "TEMPORARY", True))
    else:
        cat.check_db(db)
        for m in cat.tables(db):
            if views_only and m.view_text is None:
                continue
            if C.matches(m.name, pattern):
                rows.append((m.name, C.CATALOG, [db], m.comment, m.table_type, False))
    for name in sorted(session.views):
        if C.matches(name, pattern):
            rows.append((name, None, [], None, "TEMPORARY", True))
    return rows


def _get_table(session: Session, parts: list[str]) -> tuple:
    cat = C.catalog_of(session.engine)
    n = C.resolve_name(session, parts)
    if n.kind == "temp":
        return (n.name, None, [], None, "TEMPORARY", True)
    if n.kind == "global":
        if C.view_key(session, n.name) not in cat.global_views:
            raise C.not_found(parts)
        return (n.name, None, [C.GLOBAL_TEMP], None, "TEMPORARY", True)
    meta = cat.get(n.db, n.name) if cat.database_exists(n.db) else None
    if meta is None:
        raise C.not_found(parts)
    return (meta.name, C.CATALOG, [meta.db], meta.comment, meta.table_type, False)


def _parts(name: str, db: str | None) -> list[str]:
    parts = split_identifier(name)
    return [db, *parts] if db else parts


def catalog_relation(conv: RelationConverter, r: cpb.Catalog) -> ir.Plan:
    session = conv.session
    cat = C.catalog_of(session.engine)
    kind = r.WhichOneof("cat_type")
    m = getattr(r, kind)
    b = conv.b

    def result(table: pa.Table) -> ir.Plan:
        return b.local(table, None)

    def empty() -> ir.Plan:
        return empty_plan(b)

    def opt(f: str):  # noqa: ANN202
        return getattr(m, f) if m.HasField(f) else None

    if kind == "current_database":
        return result(_one("current_database()", C.current_db(session), pa.string()))
    if kind == "set_current_database":
        cat.check_db(m.db_name.lower())
        session.current_database = m.db_name.lower()
        return empty()
    if kind == "current_catalog":
        return result(_one("current_catalog()", C.CATALOG, pa.string()))
    if kind == "set_current_catalog":
        if m.catalog_name != C.CATALOG:
            raise AnalysisException(
                f"Catalog '{m.catalog_name}' plugin class not found: spark.sql.catalog."
                f"{m.catalog_name} is not defined",
                "CATALOG_NOT_FOUND",
            )
        return empty()
    if kind == "list_catalogs":
        rows = [(C.CATALOG, None)] if C.matches(C.CATALOG, opt("pattern")) else []
        return result(_rows([("name", pa.string()), ("description", pa.string())], rows))
    db_fields = [
        ("name", pa.string()),
        ("catalog", pa.string()),
        ("description", pa.string()),
        ("locationUri", pa.string()),
    ]
    if kind == "list_databases":
        rows = [
            (d, C.CATALOG, "default database" if d == C.DEFAULT_DB else "", cat.location_uri(d))
            for d in cat.databases()
            if C.matches(d, opt("pattern"))
        ]
        return result(_rows(db_fields, rows))
    if kind == "get_database":
        d = split_identifier(m.db_name)[-1].lower()
        cat.check_db(d)
        desc = "default database" if d == C.DEFAULT_DB else ""
        return result(_rows(db_fields, [(d, C.CATALOG, desc, cat.location_uri(d))]))
    if kind == "database_exists":
        d = split_identifier(m.db_name)[-1]
        return result(_one("value", cat.database_exists(d), pa.bool_()))
    if kind == "create_database":
        cat.create_database(m.db_name, m.if_not_exists)
        return empty()
    if kind == "drop_database":
        cat.drop_database(m.db_name, m.if_exists, m.cascade)
        return empty()
    if kind in ("list_tables", "list_views"):
        rows = _table_rows(session, opt("db_name"), opt("pattern"), views_only=kind == "list_views")
        return result(_rows(_TABLE_FIELDS, rows))
    if kind == "get_table":
        return result(
            _rows(_TABLE_FIELDS, [_get_table(session, _parts(m.table_name, opt("db_name")))])
        )
    if kind == "table_exists":
        return result(
            _one("value", C.exists(session, _parts(m.table_name, opt("db_name"))), pa.bool_())
        )
    if kind == "list_columns":
        return result(_columns(session, _parts(m.table_name, opt("db_name"))))
    if kind == "drop_temp_view":
        return result(_one("value", C.drop_temp_view(session, m.view_name), pa.bool_()))
    if kind == "drop_global_temp_view":
        return result(_one("value", C.drop_global_view(session, m.view_name), pa.bool_()))
    if kind in ("create_table", "create_external_table"):
        parts = split_identifier(m.table_name)
        schema = None
        if m.HasField("schema"):
            from pyspark.sql.connect.types import proto_schema_to_pyspark_data_type

            schema = proto_schema_to_pyspark_data_type(m.schema)
        fmt = (opt("source") or session.conf.get("spark.sql.sources.default") or "parquet").lower()
        options = dict(m.options)
        path = opt("path") or options.pop("path", None)
        comment = opt("description") if kind == "create_table" else None
        create_empty_table(session, parts, schema, fmt, [], options, path, comment=comment)
        return C.lookup(session, parts)
    if kind in ("drop_table", "drop_view"):
        name = m.table_name if kind == "drop_table" else m.view_name
        drop_table(session, split_identifier(name), m.if_exists, view=kind == "drop_view")
        return empty()
    if kind in ("is_cached", "cache_table", "uncache_table", "clear_cache"):
        from sparkless.connect.cache import catalog_cache

        return catalog_cache(conv, kind, m)
    if kind in ("refresh_table", "recover_partitions", "analyze_table"):
        parts = split_identifier(m.table_name)
        if C.lookup(session, parts) is None:
            raise C.not_found(parts)
        if kind == "refresh_table":
            from sparkless.connect.cache import refresh_table

            refresh_table(session, m.table_name)
        return empty()
    if kind == "refresh_by_path":
        from sparkless.connect.cache import refresh_path

        refresh_path(session, m.path)
        return empty()
    if kind == "truncate_table":
        truncate(_existing(session, split_identifier(m.table_name)), session.conf.snapshot())
        return empty()
    if kind == "get_table_properties":
        meta = _existing(session, split_identifier(m.table_name))
        return result(
            _rows([("key", pa.string()), ("value", pa.string())], sorted(meta.properties.items()))
        )
    if kind == "list_partitions":
        meta = _existing(session, split_identifier(m.table_name))
        from storage import files as storage_files

        rows = sorted(
            {
                (rel.rsplit("/", 1)[0],)
                for rel in (
                    p[len(meta.location):].strip("/").replace(os.sep, "/")
                    for p, _ in storage_files.listing_or_empty(meta.location, session.conf.snapshot())
                )
                if "/" in rel and not storage_files.hidden(rel.rsplit("/", 1)[1])
            }
        )
        return result(_rows([("partition", pa.string())], rows))
    if kind in ("list_functions", "function_exists", "get_function"):
        return result(_functions(session, kind, m))
    if kind == "get_create_table_string":
        meta = _existing(session, split_identifier(m.table_name))
        return result(_one("createtab_stmt", create_table_string(meta), pa.string()))
    raise unsupported(f"spark.catalog operation '{kind}'")


_NOT_SQL = {
    "col",
    "column",
    "lit",
    "udf",
    "udtf",
    "pandas_udf",
    "broadcast",
    "call_function",
    "call_udf",
    "expr",
    "asc",
    "desc",
    "asc_nulls_first",
    "asc_nulls_last",
    "desc_nulls_first",
    "desc_nulls_last",
    "window",
    "session_window",
    "unwrap_udt",
    "try_remote_functions",
    "to_str",
    "get_active_spark_context",
}


def builtin_functions() -> list[str]:
    """Spark's built-in function names, as pyspark exposes them (SQL names are its lower-case names)."""
    from pyspark.sql import functions

    names = {
        n for n in functions.__all__ if n.islower() and n not in _NOT_SQL and not n.startswith("_")
    }
    return sorted(names)


def _functions(session: Session, kind: str, m) -> pa.Table:  # noqa: ANN001 - a catalog_pb2 message
    fields = [(n, t) for n, t in _TABLE_FIELDS[:4]] + [
        ("className", pa.string()),
        ("isTemporary", pa.bool_()),
    ]
    udfs = sorted(getattr(session.analyzer, "udfs", {}) or {})

    def row(name: str, temporary: bool) -> tuple:
        if temporary:
            return (name, None, None, None, None, True)
        return (name, None, None, None, f"org.apache.spark.sql.catalyst.expressions.{name}", True)

    java = _java_functions(session)

    def persistent(key: tuple[str, str]) -> tuple:
        return (key[1], C.CATALOG, [key[0]], None, java[key], False)

    if kind == "list_functions":
        pattern = m.pattern if m.HasField("pattern") else None
        db = m.db_name.lower() if m.HasField("db_name") else C.current_db(session)
        rows = [row(n, True) for n in udfs if C.matches(n, pattern)]
        rows += [persistent(k) for k in sorted(java) if k[0] == db and C.matches(k[1], pattern)]
        rows += [row(n, False) for n in builtin_functions() if C.matches(n, pattern)]
        return _rows(fields, rows)
    parts = split_identifier(m.function_name)
    if len(parts) <= 3 and _function_key(session, parts) in java:
        key = _function_key(session, parts)
        if kind == "function_exists":
            return _one("value", True, pa.bool_())
        return _rows(fields, [persistent(key)])
    name = parts[-1].lower()
    qualified = len(parts) > 1
    known = name in udfs or (not qualified and name in builtin_functions())
    if kind == "function_exists":
        return _one("value", known, pa.bool_())
    if not known:
        raise AnalysisException(
            f"The routine {C.quoted(*parts)} cannot be found. Verify the spelling and correctness of the "
            "schema and catalog.",
            "UNRESOLVED_ROUTINE",
            sql_state="42883",
        )
    return _rows(fields, [row(name, name in udfs)])


# ---- CREATE FUNCTION name AS 'class': catalog entries only --------------------------------


def _java_functions(session: Session) -> dict[tuple[str, str], str]:
    """Persistent functions, (db, name) -> class name, kept with the shared catalog. Spark
    loads the (JVM) class when the function is called, which sparkless cannot do: the entry
    answers getFunction / functionExists / listFunctions, and a call stays unresolved."""
    cat = C.catalog_of(session.engine)
    return cat.__dict__.setdefault("java_functions", {})


def _function_key(session: Session, parts: list[str]) -> tuple[str, str]:
    if len(parts) == 3 and parts[0].lower() != C.CATALOG:
        raise unsupported(f"Functions in the catalog '{parts[0]}'")
    db = parts[-2].lower() if len(parts) >= 2 else C.current_db(session)
    return db, parts[-1].lower()


def _create_function(session: Session, stmt: exp.Create) -> None:
    props = stmt.args.get("properties")
    if props is not None and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions):
        raise unsupported("CREATE TEMPORARY FUNCTION ... AS '<JVM class>'")
    key = _function_key(session, _table_parts(stmt.this))
    C.catalog_of(session.engine).check_db(key[0])
    functions = _java_functions(session)
    if key in functions and not stmt.args.get("replace"):
        if stmt.args.get("exists"):
            return
        raise AnalysisException(
            f"Cannot create the routine `{C.CATALOG}`.`{key[0]}`.`{key[1]}` because it already exists.",
            "ROUTINE_ALREADY_EXISTS", sql_state="42723",
        )
    functions[key] = stmt.expression.name if stmt.expression is not None else ""


def _drop_function(session: Session, parts: list[str], if_exists: bool) -> None:
    key = _function_key(session, parts)
    if _java_functions(session).pop(key, None) is None and not if_exists:
        raise AnalysisException(
            f"The routine {C.quoted(*parts)} cannot be found. Verify the spelling and correctness of "
            "the schema and catalog.", "ROUTINE_NOT_FOUND", sql_state="42883",
        )


def create_table_string(meta: C.TableMeta) -> str:
    """SHOW CREATE TABLE's text, as Spark writes it for a data source table."""
    if meta.view_text is not None:
        return f"CREATE VIEW {C.CATALOG}.{meta.db}.{meta.name} AS {meta.view_text}\n"
    cols = ",\n".join(f"  {f.name} {f.dataType.simpleString().upper()}" for f in meta.schema.fields)
    out = f"CREATE TABLE {C.CATALOG}.{meta.db}.{meta.name} (\n{cols})\nUSING {meta.fmt}\n"
    if meta.partition_by:
        out += f"PARTITIONED BY ({', '.join(meta.partition_by)})\n"
    if not meta.managed:
        out += f"LOCATION '{meta.location}'\n"
    if meta.properties:
        props = ",\n".join(f"  '{k}' = '{v}'" for k, v in sorted(meta.properties.items()))
        out += f"TBLPROPERTIES (\n{props})\n"
    return out


def empty_plan(b) -> ir.Plan:  # noqa: ANN001 - PlanBuilder
    """No columns, no rows (the answer of a catalog operation that returns nothing)."""
    return ir.Project(b.local(pa.table({"x": pa.array([], pa.int32())}), None), [])


def _columns(session: Session, parts: list[str]) -> pa.Table:
    plan = C.lookup(session, parts)
    if plan is None:
        raise C.not_found(parts)
    n = C.resolve_name(session, parts)
    pcols: set[str] = set()
    if n.kind == "table":
        meta = C.catalog_of(session.engine).get(n.db, n.name)
        pcols = {p.lower() for p in meta.partition_by} if meta else set()
    fields = [
        ("name", pa.string()),
        ("description", pa.string()),
        ("dataType", pa.string()),
        ("nullable", pa.bool_()),
        ("isPartition", pa.bool_()),
        ("isBucket", pa.bool_()),
        ("isCluster", pa.bool_()),
    ]
    rows = [
        (f.name, None, f.dataType.simpleString(), f.nullable, f.name.lower() in pcols, False, False)
        for f in plan.schema().fields
    ]
    return _rows(fields, rows)


def truncate(meta: C.TableMeta, conf: dict[str, str] | None = None) -> None:
    import shutil

    from storage import files as storage_files

    if storage_files.is_remote(meta.location):
        found = storage_files.listing_or_empty(meta.location, conf)
        storage_files.delete([p for p, _ in found if not p.endswith("/" + C.META)], conf)
        return
    for entry in os.listdir(meta.location):
        if entry == C.META:
            continue
        path = os.path.join(meta.location, entry)
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


# ---- SQL statements ------------------------------------------------------------------


def _table_parts(node: exp.Expression) -> list[str]:
    if isinstance(node, exp.Schema):
        node = node.this
    return [p.name for p in node.parts]


def _props(stmt: exp.Create) -> dict:
    out: dict = {"partition_by": [], "options": {}}
    props = stmt.args.get("properties")
    for p in props.expressions if props is not None else []:
        if isinstance(p, exp.FileFormatProperty):
            out["fmt"] = (
                p.this.name.lower() if isinstance(p.this, exp.Expression) else str(p.this).lower()
            )
        elif isinstance(p, exp.LocationProperty):
            out["location"] = p.this.name
        elif isinstance(p, exp.PartitionedByProperty):
            node = p.this
            items = node.expressions if isinstance(node, (exp.Schema, exp.Tuple)) else [node]
            out["partition_by"] = [i.name for i in items]
        elif isinstance(p, exp.TemporaryProperty):
            out["temporary"] = True
        elif isinstance(p, exp.GlobalProperty):
            out["global"] = True
        elif isinstance(p, exp.SchemaCommentProperty):
            out["comment"] = p.this.name
        elif isinstance(p, exp.OptionsProperty):
            for o in p.expressions:
                out["options"][o.name] = _prop_value(o.args.get("value"))
        elif type(p) is exp.Property and p.name:  # TBLPROPERTIES
            out.setdefault("properties", {})[p.name] = _prop_value(p.args.get("value"))
    if "location" not in out and "path" in out["options"]:
        out["location"] = out["options"].pop("path")
    return out


def _prop_value(v: exp.Expression | None) -> str:
    if v is None:
        return ""
    if isinstance(v, exp.Boolean):
        return "true" if v.this else "false"
    return v.name


def _local(table: pa.Table) -> rpb.Relation:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return rpb.Relation(local_relation=rpb.LocalRelation(data=sink.getvalue().to_pybytes()))


def run_statement(planner: ConnectPlanner, text: str) -> rpb.Relation | None:
    """Run a DDL/DML statement; the relation to answer with, or None if not one of ours."""
    import logging

    from sparkless.plan.sql import SqlPlanner

    level = logging.getLogger("sqlglot").level
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    try:
        stmts = [s for s in sqlglot.parse(text, read="spark") if s is not None]
    except ParseError:
        return None
    finally:
        logging.getLogger("sqlglot").setLevel(level)
    if len(stmts) != 1:
        return None
    stmt = stmts[0]
    session = planner.session
    empty = rpb.Relation(local_relation=rpb.LocalRelation())
    if isinstance(stmt, exp.Create):
        kind = (stmt.kind or "").upper()
        if kind == "TABLE":
            _create_table(planner, stmt)
        elif kind == "VIEW":
            _create_view(planner, stmt)
        elif kind in ("DATABASE", "SCHEMA"):
            C.catalog_of(session.engine).create_database(
                stmt.this.name, bool(stmt.args.get("exists"))
            )
        elif kind == "FUNCTION":
            _create_function(session, stmt)
        else:
            return None
        return empty
    if isinstance(stmt, exp.Drop):
        kind = (stmt.kind or "").upper()
        tables = stmt.args.get("tables") or [stmt.this]
        if kind in ("TABLE", "VIEW"):
            for t in tables:
                drop_table(
                    session, _table_parts(t), bool(stmt.args.get("exists")), view=kind == "VIEW"
                )
        elif kind in ("DATABASE", "SCHEMA"):
            C.catalog_of(session.engine).drop_database(
                tables[0].name, bool(stmt.args.get("exists")), bool(stmt.args.get("cascade"))
            )
        elif kind == "FUNCTION":
            _drop_function(session, _table_parts(tables[0]), bool(stmt.args.get("exists")))
        else:
            return None
        return empty
    if isinstance(stmt, exp.Insert):
        _insert(planner, stmt)
        return empty
    if isinstance(stmt, exp.Use):
        db = stmt.this.name.lower()
        C.catalog_of(session.engine).check_db(db)
        session.current_database = db
        return empty
    if isinstance(stmt, exp.TruncateTable):
        for t in stmt.expressions:
            truncate(_existing(session, _table_parts(t)), session.conf.snapshot())
        return empty
    if isinstance(stmt, (exp.Cache, exp.Uncache)):
        from sparkless.connect import cache

        name = ".".join(_table_parts(stmt.this))
        if isinstance(stmt, exp.Uncache):
            if stmt.args.get("exists") or C.lookup(session, _table_parts(stmt.this)) is not None:
                cache.uncache_table(session, name)
            else:
                raise C.not_found(_table_parts(stmt.this))
        elif stmt.expression is not None:
            with session.lock:
                plan = SqlPlanner(session).plan(stmt.expression)
            session.create_view(name, plan, replace=True)
            cache.cache_table(session, name)
        else:
            cache.cache_table(session, name)
        return empty
    if (
        isinstance(stmt, exp.Describe)
        and isinstance(stmt.this, exp.Table)
        and not stmt.args.get("style")
    ):
        return _describe_table(session, _table_parts(stmt.this))
    if isinstance(stmt, exp.Command) and stmt.name.upper() == "SHOW":
        return _show_tables(session, str(stmt.expression.name).split())
    return None


def _describe_table(session: Session, parts: list[str]) -> rpb.Relation:
    """DESCRIBE [TABLE] t: one row per column, then the partition columns, as Spark."""
    plan = C.lookup(session, parts)
    if plan is None:
        raise C.not_found(parts)
    n = C.resolve_name(session, parts)
    meta = C.catalog_of(session.engine).get(n.db, n.name) if n.kind == "table" else None
    rows = [(f.name, f.dataType.simpleString(), None) for f in plan.schema().fields]
    if meta is not None and meta.partition_by:
        by_name = {f.name.lower(): f for f in plan.schema().fields}
        rows += [("# Partition Information", "", ""), ("# col_name", "data_type", "comment")]
        rows += [(p, by_name[p.lower()].dataType.simpleString(), None) for p in meta.partition_by]
    fields = [
        ("col_name", pa.string(), False),
        ("data_type", pa.string(), False),
        ("comment", pa.string()),
    ]
    return _local(_rows(fields, rows))


def _show_tables(session: Session, words: list[str]) -> rpb.Relation | None:
    if not words or words[0].upper() != "TABLES":
        return None
    db, pattern = None, None
    rest = words[1:]
    if len(rest) >= 2 and rest[0].upper() in ("IN", "FROM"):
        db, rest = rest[1].strip("`"), rest[2:]
    if rest and rest[0].upper() == "LIKE":
        rest = rest[1:]
    if rest:
        pattern = rest[0].strip("'\"")
    rows = _table_rows(session, db, pattern)
    table = _rows(
        [
            ("namespace", pa.string(), False),
            ("tableName", pa.string(), False),
            ("isTemporary", pa.bool_(), False),
        ],
        [(r[2][0] if r[2] else "", r[0], r[5]) for r in rows],
    )
    return _local(table)


def _create_table(planner: ConnectPlanner, stmt: exp.Create) -> None:
    from sparkless.plan.sql import SqlPlanner

    session = planner.session
    parts = _table_parts(stmt.this)
    props = _props(stmt)
    fmt = props.get("fmt") or "parquet"
    if fmt in ("delta", "hive", "iceberg"):
        raise unsupported(f"Tables of format '{fmt}'")
    query = stmt.expression
    if query is not None:
        n = C.resolve_name(session, parts, views=False)
        if stmt.args.get("exists") and C.catalog_of(session.engine).get(n.db, n.name) is not None:
            return
        with session.lock:
            logical = SqlPlanner(session).plan(query)
        mode = "overwrite" if stmt.args.get("replace") else "error"
        save_as_table(
            planner,
            parts,
            logical,
            fmt,
            mode,
            props["partition_by"],
            props["options"],
            props.get("location"),
        )
        return
    schema = None
    if isinstance(stmt.this, exp.Schema) and stmt.this.expressions:
        ddl = ", ".join(
            f"`{c.name}` {c.args['kind'].sql('spark')}"
            for c in stmt.this.expressions
            if isinstance(c, exp.ColumnDef)
        )
        schema = parse_ddl(ddl)
    create_empty_table(
        session,
        parts,
        schema,
        fmt,
        props["partition_by"],
        props["options"],
        props.get("location"),
        if_not_exists=bool(stmt.args.get("exists")),
        replace=bool(stmt.args.get("replace")),
        comment=props.get("comment"),
        properties=props.get("properties"),
    )


def _create_view(planner: ConnectPlanner, stmt: exp.Create) -> None:
    from sparkless.plan.sql import SqlPlanner

    session = planner.session
    props = _props(stmt)
    parts = _table_parts(stmt.this)
    replace = bool(stmt.args.get("replace"))
    with session.lock:
        plan = SqlPlanner(session).plan(stmt.expression)
    if isinstance(stmt.this, exp.Schema) and stmt.this.expressions:
        plan = session.builder.to_df(plan, [c.name for c in stmt.this.expressions])
    if props.get("global"):
        C.create_global_view(session, parts[-1], plan, replace)
        return
    if props.get("temporary"):
        session.create_view(parts[-1], plan, replace)
        return
    cat = C.catalog_of(session.engine)
    n = C.resolve_name(session, parts, views=False)
    cat.check_db(n.db)
    with cat.lock:
        old = cat.get(n.db, n.name)
        if old is not None:
            if stmt.args.get("exists"):
                return
            if not replace or old.view_text is None:
                raise C.already_exists([C.CATALOG, n.db, n.name])
        cat.save(
            C.TableMeta(
                n.db,
                n.name,
                "view",
                _nullable(plan.schema()),
                "",
                view_text=stmt.expression.sql("spark"),
            )
        )


def _insert(planner: ConnectPlanner, stmt: exp.Insert) -> None:
    from sparkless.plan.sql import SqlPlanner

    session = planner.session
    target = stmt.this
    columns = None
    if isinstance(target, exp.Schema):
        columns = [c.name for c in target.expressions]
        target = target.this
    static = {}
    partition = target.args.get("partition") if isinstance(target, exp.Table) else None
    if partition is not None:
        for e in partition.expressions:
            if isinstance(e, exp.EQ):
                static[e.this.name.lower()] = e.expression
    meta = _existing(session, _table_parts(target))
    query = stmt.expression
    with session.lock:
        if isinstance(query, exp.Values):
            logical = _values(session, query)
        else:
            logical = SqlPlanner(session).plan(query)
    if columns is not None:
        logical = _by_name(session.builder.to_df(logical, columns), meta)
    if static:
        logical = _with_static_partitions(session, meta, logical, static)
    insert(planner, meta, logical, overwrite=bool(stmt.args.get("overwrite")))


def _with_static_partitions(
    session: Session, meta: C.TableMeta, logical: ir.Plan, static: dict
) -> ir.Plan:
    """``INSERT INTO t PARTITION (p = 1) SELECT ...``: the query gives the other columns."""
    data = [f for f in meta.schema.fields if f.name.lower() not in static]
    if len(data) != len(logical.output):
        reason = "too many" if len(logical.output) > len(data) else "not enough"
        raise _arity_error(meta, [a.name for a in logical.output], reason)
    given = iter(logical.output)
    exprs = []
    for f in meta.schema.fields:
        if f.name.lower() in static:
            lit = session.analyzer.resolve(
                static[f.name.lower()], session.analyzer.scope(logical)
            ).expr
            exprs.append(
                ir.NamedExpr(cast_sql(lit, f.dataType), ir.Attribute(f.name, f.dataType, True))
            )
        else:
            a = next(given)
            exprs.append(ir.NamedExpr(Analyzer._ref(a), a))
    return ir.Project(logical, exprs)


def _values(session: Session, values: exp.Values) -> ir.Plan:
    """``VALUES (..), (..)`` as a union of one-row projections."""
    b = session.builder
    plan = None
    for row in values.expressions:
        items = row.expressions if isinstance(row, exp.Tuple) else [row]
        one = b.local(pa.table({"__one": [1]}), None)
        p = b.project(one, [exp.alias_(e.copy(), f"col{i + 1}") for i, e in enumerate(items)])
        plan = p if plan is None else b.union(plan, p)
    return plan


__all__ = ["write_table", "catalog_relation", "run_statement", "insert", "save_as_table"]
