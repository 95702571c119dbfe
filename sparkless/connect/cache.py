"""``persist`` / ``cache`` / ``checkpoint`` / ``CACHE TABLE``: results materialised once.

A persisted DataFrame is run once, eagerly, and written as Parquet files through the
atomic file writer; the session keeps the files keyed by the DataFrame's Connect
relation (its serialized bytes: the client resends the same relation, plan ids
included, inside every DataFrame derived from it). When a relation being converted
matches a key, the converter returns a scan of those files instead, so the physical
planner sees an ordinary file leaf and nothing upstream is recomputed. Checkpoints are
the same, named by a ``CachedRemoteRelation`` id; ``CACHE TABLE`` keys by table name.

The files live in the configured store (``spark.sparkless.store``): under its directory
through the atomic file writer when it is ``file://``; otherwise every scan task's
Parquet file is one block *in the store* (Redis, the memory store, S3), written by the
task under ``cache/<session>/<id>/`` and read back by the scan tasks through
``sparkless://`` paths (``storage/blockfs.py``: ranged reads of the block, so row groups
and projection work). Only the accepted attempts' files are scanned, so nothing needs
committing. They are deleted on unpersist and when the session closes. Spark is lazier
(it fills the cache on the first action); being eager is never wrong, only earlier.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pyarrow as pa
from pyspark.sql.connect.proto import base_pb2 as bpb
from pyspark.sql.connect.proto import common_pb2 as cpb
from pyspark.sql.connect.proto import relations_pb2 as rpb
from pyspark.sql.types import StructType

from sparkless.connect.streaming import check_batch
from sparkless.plan import ir
from storage import blockfs
from storage import files as storage_files

if TYPE_CHECKING:
    from sparkless.connect.planner import ConnectPlanner
    from sparkless.connect.relations import RelationConverter
    from sparkless.connect.session import Session


@dataclass
class Cached:
    path: str
    schema: StructType
    level: cpb.StorageLevel
    reads: tuple[str, ...] = ()  # the files and directories the cached plan read
    origin: object = None  # CACHE TABLE: what the name denoted (a replaced view is not cached)
    files: tuple[str, ...] = ()  # in a block store: the accepted tasks' files (sparkless://)
    conf: dict | None = None  # how to reach the store, to delete the blocks


def _state(session: Session) -> dict[str, dict]:
    st = getattr(session, "_cache_state", None)
    if st is None:
        st = {"plans": {}, "remote": {}, "tables": {}}
        session._cache_state = st
    return st


def _root(session: Session) -> str:
    uri = session.engine.store_uri
    if uri.startswith("file://"):
        base = os.path.join(uri[len("file://") :], "cache", session.session_id)
        os.makedirs(base, exist_ok=True)
        return base
    return blockfs.store_path(uri, f"cache/{session.session_id}")


def _write_blocks(planner: ConnectPlanner, plan: ir.Plan, path: str) -> tuple[str, ...]:
    """Run ``plan`` into one Parquet block per task under ``path`` in the store; the
    accepted attempts' files, in partition order."""
    def output_for(partition: int, attempt: int) -> dict:
        return {
            "kind": "files",
            "format": "parquet",
            "path": f"{path}/task-{partition:05d}-attempt-{attempt}",
            "partition_by": [],
            "options": {},
            "file_prefix": f"part-{partition:05d}",
        }

    try:
        accepted = planner.run_to_files(plan, "cache", output_for)
    except BaseException:
        storage_files.delete_tree(path, planner.session.conf.snapshot())
        raise
    return tuple(
        f"{accepted[p]['path']}/{rel}" for p in sorted(accepted) for rel in accepted[p].get("files") or []
    )


def materialize(planner: ConnectPlanner, plan: ir.Plan, level: cpb.StorageLevel | None) -> Cached:
    session = planner.session
    path = storage_files.join(_root(session), uuid.uuid4().hex)
    names = [a.name for a in plan.output]
    if len({n.lower() for n in names}) != len(names):  # Parquet needs distinct names
        plan = ir.Project(
            plan,
            [ir.NamedExpr(a.ref(), a.renamed(f"_{i}_{a.name}")) for i, a in enumerate(plan.output)],
        )
    reads = tuple(
        sorted(
            {
                f if storage_files.is_remote(f) else os.path.abspath(f)
                for n in ir.walk(plan)
                if isinstance(n, ir.FileScan)
                for f in [*n.files, *n.root_paths]
            }
        )
    )
    conf = session.conf.snapshot()
    files: tuple[str, ...] = ()
    if storage_files.is_remote(path):
        check_batch(plan)
        files = _write_blocks(planner, plan, path)
    else:
        planner.write_files(plan, path, "parquet", "overwrite", [], {})
    schema = StructType([a.field() for a in plan.output])
    return Cached(path, schema, level or default_level(), reads, files=files, conf=conf)


def invalidate(session: Session, written: str) -> None:
    """A write to ``written`` drops every cached result that read from it, and those that
    read a dropped one (Spark re-caches them from the new data; reading again is the same)."""
    st = getattr(session, "_cache_state", None)
    if not st:
        return
    pending = [written]
    while pending:
        root = pending.pop()
        for group in st.values():
            stale = [
                k for k, (c, _) in group.items() if any(storage_files.same_or_under(r, root) for r in c.reads)
            ]
            for key in stale:
                c = group.pop(key)
                pending.append(c[0].path)
                _drop(c)


def default_level() -> cpb.StorageLevel:
    """MEMORY_AND_DISK_DESER, what ``df.cache()`` asks for."""
    return cpb.StorageLevel(
        use_disk=True, use_memory=True, use_off_heap=False, deserialized=True, replication=1
    )


def scan(session: Session, c: Cached, names: list[str] | None = None) -> ir.Plan:
    """A new leaf over the cached files, with the original types, nullability and names."""
    from sparkless.plan import sources

    fs = sources.read(
        "parquet", list(c.files) or [c.path], {}, c.schema, session.oracle.con, c.conf
    )
    attrs = [replace(a, nullable=f.nullable) for a, f in zip(fs.attrs, c.schema.fields)]
    fs = replace(fs, attrs=attrs)
    fs.root_paths = []
    out = names or [f.name for f in c.schema.fields]
    if out == [a.name for a in attrs]:
        return fs
    return ir.Project(
        fs,
        [ir.NamedExpr(a.ref(), ir.Attribute(n, a.dtype, a.nullable)) for a, n in zip(attrs, out)],
    )


def _key(rel: rpb.Relation) -> bytes:
    return rel.SerializeToString(deterministic=True)


def cached_plan(conv: RelationConverter, rel: rpb.Relation) -> ir.Plan | None:
    """The cached leaf for ``rel`` (persisted, checkpointed or a cached table), or None."""
    session = conv.session
    st = getattr(session, "_cache_state", None)
    kind = rel.WhichOneof("rel_type")
    if kind == "cached_remote_relation":
        c = (st or {}).get("remote", {}).get(rel.cached_remote_relation.relation_id)
        if c is None:
            from sparkless.errors import AnalysisException

            # Spark's InvalidPlanInput wording. Not an INVALID_HANDLE class: the client
            # retries those forever (it reads them as a server restart), and a DataFrame
            # used with another session's client (pyspark binds a checkpoint to the active
            # session) would hang instead of failing.
            raise AnalysisException(
                f"No DataFrame with id {rel.cached_remote_relation.relation_id} is found in "
                f"the session {session.session_id}"
            )
        return scan(session, c[0], c[1])
    if not st:
        return None
    if st["plans"]:
        c = st["plans"].get(_key(rel))
        if c is not None:
            return scan(session, c[0], c[1])
    return None


def cached_table(session: Session, parts: list[str]) -> ir.Plan | None:
    """The cached copy of a table or view (CACHE TABLE), for every way it is named."""
    st = getattr(session, "_cache_state", None)
    if not st or not st["tables"]:
        return None
    c = _table_entry(session, parts)
    return scan(session, c[0], c[1]) if c is not None else None


def _origin(session: Session, parts: list[str]) -> object:
    from sparkless import catalog

    n = catalog.resolve_name(session, parts)
    if n.kind == "temp":
        return session.views.get(catalog.view_key(session, n.name))
    cat = catalog.catalog_of(session.engine)
    if n.kind == "global":
        return cat.global_views.get(catalog.view_key(session, n.name))
    meta = cat.get(n.db, n.name)
    return None if meta is None else (meta.location, meta.schema.json(), meta.view_text)


def _table_entry(session: Session, parts: list[str]) -> tuple[Cached, list[str]] | None:
    """The CACHE TABLE entry, unless the name now denotes something else (then dropped)."""
    st = getattr(session, "_cache_state", None)
    key = _parts_key(session, parts)
    c = st["tables"].get(key) if st else None
    if c is not None and c[0].origin != _origin(session, parts):
        _drop(st["tables"].pop(key))
        return None
    return c


def _parts_key(session: Session, parts: list[str]) -> str:
    from sparkless import catalog

    n = catalog.resolve_name(session, parts)
    return f"{n.kind}:{n.db}:{n.name.lower()}"


def _table_key(session: Session, name: str) -> str:
    from sparkless.connect.expressions import split_identifier

    return _parts_key(session, split_identifier(name))


def _drop(c: tuple[Cached, list[str]] | None) -> None:
    if c is not None:
        storage_files.delete_tree(c[0].path, c[0].conf)


# ---- AnalyzePlan persist / unpersist / get_storage_level --------------------------------


def analyze(
    planner: ConnectPlanner, kind: str, req: bpb.AnalyzePlanRequest, resp: bpb.AnalyzePlanResponse
) -> None:
    session = planner.session
    st = _state(session)
    getattr(resp, kind).SetInParent()  # the client needs the (empty) result set
    if kind == "persist":
        rel = req.persist.relation
        key = _key(rel)
        if key in st["plans"]:
            return
        with session.lock:
            plan = planner.relations.convert(rel)
        level = req.persist.storage_level if req.persist.HasField("storage_level") else None
        st["plans"][key] = (materialize(planner, plan, level), [a.name for a in plan.output])
    elif kind == "unpersist":
        _drop(st["plans"].pop(_key(req.unpersist.relation), None))
    elif kind == "get_storage_level":
        c = st["plans"].get(_key(req.get_storage_level.relation))
        level = c[0].level if c is not None else cpb.StorageLevel(replication=1)
        resp.get_storage_level.storage_level.CopyFrom(level)


def checkpoint(planner: ConnectPlanner, cmd, holder) -> None:  # noqa: ANN001 - CheckpointCommand, ExecutionHolder
    session = planner.session
    with session.lock:
        plan = planner.relations.convert(cmd.relation)
    level = cmd.storage_level if cmd.HasField("storage_level") else None
    rid = str(uuid.uuid4())
    _state(session)["remote"][rid] = (
        materialize(planner, plan, level),
        [a.name for a in plan.output],
    )
    holder.emit(
        bpb.ExecutePlanResponse(
            checkpoint_command_result=bpb.CheckpointCommandResult(
                relation=rpb.CachedRemoteRelation(relation_id=rid)
            )
        )
    )


def remove_remote(session: Session, relation_id: str) -> None:
    _drop(_state(session)["remote"].pop(relation_id, None))


# ---- CACHE TABLE / spark.catalog.cacheTable ------------------------------------------------


def cache_table(session: Session, name: str, level: cpb.StorageLevel | None = None) -> None:
    from sparkless.connect.expressions import split_identifier
    from sparkless.connect.planner import ConnectPlanner

    st = _state(session)
    key = _table_key(session, name)
    if _table_entry(session, split_identifier(name)) is not None:
        return
    with session.lock:
        plan = session.lookup_table(".".join(f"`{p}`" for p in split_identifier(name)))
    planner = ConnectPlanner(session)
    c = materialize(planner, plan, level)
    c.origin = _origin(session, split_identifier(name))
    st["tables"][key] = (c, [a.name for a in plan.output])


def refresh_table(session: Session, name: str) -> None:
    """``REFRESH TABLE`` / ``catalog.refreshTable``: a cached table is cached again from its
    current data (Spark drops the cached data and fills it again on the next use)."""
    from sparkless.connect.expressions import split_identifier

    entry = _table_entry(session, split_identifier(name))
    if entry is None:
        return
    uncache_table(session, name)
    cache_table(session, name, entry[0].level)


def refresh_path(session: Session, path: str) -> None:
    """``catalog.refreshByPath``: every cached table that read under ``path`` is cached again;
    other cached results that read it are dropped (as a write there drops them)."""
    st = getattr(session, "_cache_state", None)
    if not st:
        return
    stale = [
        k for k, (c, _) in st["tables"].items()
        if any(storage_files.same_or_under(r, path) for r in c.reads)
    ]
    for key in stale:
        c, _ = st["tables"].pop(key)
        _drop((c, []))
        kind, db, name = key.split(":", 2)
        cache_table(session, name if kind == "temp" else f"`{db}`.`{name}`", c.level)
    invalidate(session, path)


def uncache_table(session: Session, name: str) -> None:
    _drop(_state(session)["tables"].pop(_table_key(session, name), None))


def is_table_cached(session: Session, name: str) -> bool:
    from sparkless.connect.expressions import split_identifier

    session.lookup_table(".".join(f"`{p}`" for p in split_identifier(name)))  # not found: raise
    return _table_entry(session, split_identifier(name)) is not None


def clear(session: Session) -> None:
    st = getattr(session, "_cache_state", None)
    if not st:
        return
    for group in st.values():
        for c in group.values():
            _drop(c)
        group.clear()


def catalog_cache(conv: RelationConverter, kind: str, m) -> ir.Plan:  # noqa: ANN001
    session = conv.session
    if kind == "is_cached":
        value = is_table_cached(session, m.table_name)
        return conv.b.local(pa.table({"value": pa.array([value], pa.bool_())}), None)
    if kind == "cache_table":
        cache_table(session, m.table_name, m.storage_level if m.HasField("storage_level") else None)
    elif kind == "uncache_table":
        is_table_cached(session, m.table_name)  # raises TABLE_OR_VIEW_NOT_FOUND
        uncache_table(session, m.table_name)
    elif kind == "clear_cache":
        clear(session)
    from sparkless.connect.tables import empty_plan

    return empty_plan(conv.b)


__all__ = [
    "analyze",
    "checkpoint",
    "cached_plan",
    "cache_table",
    "uncache_table",
    "clear",
    "catalog_cache",
]
