"""Tables, databases and views: Spark's session catalog on a warehouse directory.

Spark without Hive keeps table metadata in memory (lost with the session). We keep it
in the warehouse instead, so tables outlive a server restart: a table is a directory
``<warehouse>/<table>`` (other databases: ``<warehouse>/<db>.db/<table>``) holding the
data files and a JSON file ``.sparkless-table.json`` with its format, schema, partition
columns, options and, for an external table, its location. Readers skip names starting
with ``.`` or ``_`` (as Spark's file index does), so the file is never read as data.
A persistent view is the same JSON with the view's SQL text and no data.

The warehouse is ``spark.sql.warehouse.dir`` (default ``spark-warehouse`` under the
server's working directory, as Spark): a local path, a ``file:`` URI or an ``s3://`` /
``s3a://`` URI (``storage/files.py``; an empty database there is a hidden marker object,
since an object store has no empty directories). Temporary views live in the session; global
temporary views (database ``global_temp``) are shared by every session of the server.
"""

from __future__ import annotations

import fnmatch
import json
import os
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pyspark.sql.types import StructType, _parse_datatype_json_string

from sparkless.errors import AnalysisException
from sparkless.plan import ir
from storage import files as storage_files

if TYPE_CHECKING:
    from sparkless.connect.session import Session
    from sparkless.engine import Engine

META = ".sparkless-table.json"
DB_MARKER = ".sparkless-database"  # an empty database on an object store
CATALOG = "spark_catalog"
DEFAULT_DB = "default"
GLOBAL_TEMP = "global_temp"


@dataclass
class TableMeta:
    db: str
    name: str
    fmt: str
    schema: StructType
    location: str
    partition_by: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    managed: bool = True
    view_text: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    comment: str | None = None

    @property
    def table_type(self) -> str:
        return "VIEW" if self.view_text is not None else ("MANAGED" if self.managed else "EXTERNAL")

    def to_json(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "format": self.fmt,
                "schema": self.schema.json(),
                "location": None if self.managed else self.location,
                "partition_by": self.partition_by,
                "options": self.options,
                "view_text": self.view_text,
                "properties": self.properties,
                "comment": self.comment,
            },
            indent=1,
        )


def quoted(*parts: str) -> str:
    return ".".join(f"`{p}`" for p in parts)


def not_found(parts: list[str]) -> AnalysisException:
    shown = quoted(*parts)
    return AnalysisException(
        f"The table or view {shown} cannot be found. Verify the spelling and correctness of the "
        "schema and catalog.\nIf you did not qualify the name with a schema, verify the "
        "current_schema() output, or qualify the name with the correct schema and catalog.\n"
        "To tolerate the error on drop use DROP VIEW IF EXISTS or DROP TABLE IF EXISTS.",
        "TABLE_OR_VIEW_NOT_FOUND",
        sql_state="42P01",
        parameters={"relationName": shown},
    )


def already_exists(parts: list[str]) -> AnalysisException:
    shown = quoted(*parts)
    return AnalysisException(
        f"Cannot create table or view {shown} because it already exists.\nChoose a different "
        "name, drop or replace the existing object, or add the IF NOT EXISTS clause to tolerate "
        "pre-existing objects.",
        "TABLE_OR_VIEW_ALREADY_EXISTS",
        sql_state="42P07",
        parameters={"relationName": shown},
    )


def schema_not_found(db: str) -> AnalysisException:
    return AnalysisException(
        f"The schema `{db}` cannot be found. Verify the spelling and correctness of the schema "
        "and catalog.\nIf you did not qualify the name with a catalog, verify the current_schema() "
        "output, or qualify the name with the correct catalog.\nTo tolerate the error on drop use "
        "DROP SCHEMA IF EXISTS.",
        "SCHEMA_NOT_FOUND",
        sql_state="42704",
        parameters={"schemaName": f"`{CATALOG}`.`{db}`"},
    )


class Catalog:
    """The server-wide part: warehouse tables, databases, global temporary views."""

    def __init__(self, warehouse: str, conf: dict[str, str] | None = None) -> None:
        self.remote = storage_files.is_remote(warehouse)
        self.conf = dict(conf or {})
        self.warehouse = warehouse.rstrip("/") if self.remote else storage_files.local(warehouse)
        self.global_views: dict[str, ir.Plan] = {}
        self.lock = threading.RLock()

    # ---- databases ---------------------------------------------------------------

    def db_dir(self, db: str) -> str:
        return self.warehouse if db == DEFAULT_DB else storage_files.join(self.warehouse, f"{db}.db")

    def location_uri(self, db: str) -> str:
        if self.remote:
            return self.db_dir(db)
        return Path(self.db_dir(db)).as_uri().replace("file:///", "file:/")

    def _remote_files(self, root: str) -> list[str]:
        """Paths under ``root`` relative to it (an object store has no empty directories)."""
        return [p[len(root):].strip("/") for p, _ in storage_files.listing_or_empty(root, self.conf)]

    def databases(self) -> list[str]:
        out = [DEFAULT_DB]
        if self.remote:
            names = {rel.split("/", 1)[0] for rel in self._remote_files(self.warehouse) if "/" in rel}
            return out + sorted(n[:-3] for n in names if n.endswith(".db"))
        root = Path(self.warehouse)
        if root.is_dir():
            out += sorted(
                d.name[:-3]
                for d in root.iterdir()
                if d.is_dir() and d.name.endswith(".db")
            )
        return out

    def database_exists(self, db: str) -> bool:
        return db.lower() in self.databases()

    def check_db(self, db: str) -> None:
        if not self.database_exists(db):
            raise schema_not_found(db)

    def create_database(self, db: str, if_not_exists: bool) -> None:
        db = db.lower()
        if self.database_exists(db):
            if if_not_exists:
                return
            raise AnalysisException(
                f"Cannot create schema `{db}` because it already exists.\nChoose a different name, "
                "drop the existing schema, or add the IF NOT EXISTS clause to tolerate pre-existing schema.",
                "SCHEMA_ALREADY_EXISTS",
                sql_state="42P06",
                parameters={"schemaName": f"`{db}`"},
            )
        if self.remote:  # a hidden marker object: the prefix exists while the database is empty
            storage_files.write_bytes(storage_files.join(self.db_dir(db), DB_MARKER), b"", self.conf)
        else:
            Path(self.db_dir(db)).mkdir(parents=True, exist_ok=True)

    def drop_database(self, db: str, if_exists: bool, cascade: bool) -> None:
        db = db.lower()
        if not self.database_exists(db):
            if if_exists:
                return
            raise schema_not_found(db)
        if db == DEFAULT_DB:
            raise AnalysisException(
                "Can not drop default database", "UNSUPPORTED_FEATURE.DROP_DATABASE"
            )
        if self.tables(db) and not cascade:
            raise AnalysisException(
                f"Cannot drop a schema `{db}` because it contains objects.\nUse DROP SCHEMA ... CASCADE "
                "to drop the schema and all its objects.",
                "SCHEMA_NOT_EMPTY",
                sql_state="2BP01",
            )
        storage_files.delete_tree(self.db_dir(db), self.conf)

    # ---- tables ------------------------------------------------------------------

    def table_dir(self, db: str, name: str) -> str:
        return storage_files.join(self.db_dir(db), name.lower())

    def get(self, db: str, name: str) -> TableMeta | None:
        path = storage_files.join(self.table_dir(db, name), META)
        try:
            d = json.loads(storage_files.read_bytes(path, self.conf))
        except (OSError, ValueError):
            return None
        schema = _parse_datatype_json_string(d["schema"])
        return TableMeta(
            db,
            d["name"],
            d["format"],
            schema,
            d.get("location") or str(self.table_dir(db, name)),
            list(d.get("partition_by") or []),
            dict(d.get("options") or {}),
            d.get("location") is None,
            d.get("view_text"),
            dict(d.get("properties") or {}),
            d.get("comment"),
        )

    def tables(self, db: str) -> list[TableMeta]:
        if self.remote:
            names = sorted(
                rel.split("/")[0] for rel in self._remote_files(self.db_dir(db))
                if rel.count("/") == 1 and rel.endswith("/" + META)
            )
        else:
            root = Path(self.db_dir(db))
            if not root.is_dir():
                return []
            names = [d.name for d in sorted(root.iterdir()) if d.is_dir() and (d / META).is_file()]
        out = []
        for name in names:
            meta = self.get(db, name)
            if meta is not None:
                out.append(meta)
        return out

    def save(self, meta: TableMeta) -> None:
        path = storage_files.join(self.table_dir(meta.db, meta.name), META)
        storage_files.write_bytes(path, meta.to_json().encode(), self.conf)  # atomic everywhere

    def drop(self, meta: TableMeta) -> None:
        storage_files.delete_tree(self.table_dir(meta.db, meta.name), self.conf)


_catalogs: weakref.WeakKeyDictionary[Engine, Catalog] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def catalog_of(engine: Engine) -> Catalog:
    with _lock:
        cat = _catalogs.get(engine)
        if cat is None:
            warehouse = engine.base_conf.get("spark.sql.warehouse.dir") or "spark-warehouse"
            cat = Catalog(warehouse, engine.base_conf)
            _catalogs[engine] = cat
        return cat


# ---- name resolution (per session) -------------------------------------------------


@dataclass
class Name:
    """A resolved identifier: a temp view, a global temp view or a (db, table)."""

    kind: str  # "temp" | "global" | "table"
    db: str | None
    name: str
    parts: list[str]


def current_db(session: Session) -> str:
    return getattr(session, "current_database", DEFAULT_DB)


def resolve_name(session: Session, parts: list[str], views: bool = True) -> Name:
    parts = [p for p in parts]
    if len(parts) == 3 and parts[0].lower() == CATALOG:
        parts = parts[1:]
    if len(parts) == 1:
        key = view_key(session, parts[0])
        if views and key in session.views:
            return Name("temp", None, parts[0], parts)
        return Name("table", current_db(session), parts[0].lower(), parts)
    if len(parts) == 2:
        if parts[0].lower() == GLOBAL_TEMP:
            return Name("global", GLOBAL_TEMP, parts[1], parts)
        return Name("table", parts[0].lower(), parts[1].lower(), parts)
    raise not_found(parts)


def view_key(session: Session, name: str) -> str:
    return name if session.conf.case_sensitive else name.lower()


def lookup(session: Session, parts: list[str]) -> ir.Plan | None:
    """The plan of a view or table named by ``parts``, or None."""
    from sparkless.connect.cache import cached_table

    cat = catalog_of(session.engine)
    n = resolve_name(session, parts)
    hit = cached_table(session, parts)
    if hit is not None:
        return ir.Alias(hit, n.name)
    if n.kind == "temp":
        return ir.Alias(session.views[view_key(session, n.name)], n.name)
    if n.kind == "global":
        plan = cat.global_views.get(view_key(session, n.name))
        return ir.Alias(plan, n.name) if plan is not None else None
    meta = cat.get(n.db, n.name)
    if meta is None:
        return None
    return ir.Alias(table_plan(session, meta), meta.name)


def table_plan(session: Session, meta: TableMeta) -> ir.Plan:
    if meta.view_text is not None:
        from sparkless.plan.sql import SqlPlanner

        return SqlPlanner(session).query(meta.view_text)
    from sparkless.plan import sources

    conf = session.conf.snapshot()
    listed = None
    if not storage_files.is_remote(meta.location):
        if meta.managed:
            os.makedirs(meta.location, exist_ok=True)  # an empty table has no files yet
        elif meta.schema is not None and not os.path.exists(storage_files.local(meta.location)):
            return _empty_table(session, meta.schema)
    elif meta.schema is not None:
        # One listing of an object-store location answers "any data?" and feeds the scan:
        # a LIST is a round trip (and a billed request) per table reference.
        listed = _list_table(meta.location, conf)
        if not listed[0]:
            return _empty_table(session, meta.schema)
    return sources.read(
        meta.fmt, [meta.location], meta.options, meta.schema, session.oracle.con, conf, listed=listed
    )


def _empty_table(session: Session, schema: StructType) -> ir.Plan:
    """Spark lists a table's missing location as no files: the table is empty."""
    from sparkless.plan.types import arrow_schema_of

    return session.builder.local(arrow_schema_of(schema).empty_table(), schema)


def _list_table(location: str, conf: dict[str, str]) -> tuple[list[str], list[str]]:
    """The data files under a remote table location (metadata and markers are hidden);
    a location (or bucket) that does not exist yet holds none."""
    from sparkless.plan import sources

    try:
        return sources.list_files([location], conf)
    except AnalysisException as e:
        if e.error_class == "PATH_NOT_FOUND":
            return [], []
        raise


def exists(session: Session, parts: list[str]) -> bool:
    try:
        return lookup(session, parts) is not None
    except AnalysisException:
        return False


def create_global_view(session: Session, name: str, plan: ir.Plan, replace: bool) -> None:
    cat = catalog_of(session.engine)
    key = view_key(session, name)
    with cat.lock:
        if key in cat.global_views and not replace:
            raise AnalysisException(
                f"Cannot create the temporary view `{name}` because it already exists.",
                "TEMP_TABLE_OR_VIEW_ALREADY_EXISTS",
                sql_state="42P07",
            )
        cat.global_views[key] = plan


def drop_temp_view(session: Session, name: str) -> bool:
    return session.views.pop(view_key(session, name), None) is not None


def drop_global_view(session: Session, name: str) -> bool:
    return catalog_of(session.engine).global_views.pop(view_key(session, name), None) is not None


def matches(name: str, pattern: str | None) -> bool:
    """Spark's catalog patterns: ``*`` any characters, ``|`` alternatives, case-insensitive."""
    if not pattern:
        return True
    return any(fnmatch.fnmatchcase(name.lower(), p.strip().lower()) for p in pattern.split("|"))


__all__ = [
    "Catalog",
    "TableMeta",
    "catalog_of",
    "lookup",
    "resolve_name",
    "not_found",
    "already_exists",
    "schema_not_found",
]
