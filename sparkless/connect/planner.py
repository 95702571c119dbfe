"""Turns Connect requests into work: queries stream Arrow batches; commands run eagerly."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

import pyarrow as pa
from pyspark.sql.connect.proto import base_pb2 as pb
from pyspark.sql.connect.proto import commands_pb2 as cpb
from pyspark.sql.connect.proto import relations_pb2 as rpb
from pyspark.sql.connect.types import pyspark_types_to_proto_types
from pyspark.sql.types import StructType
from sqlglot import exp

from sparkless.commit import committer_for
from sparkless.conf import parse_bytes
from sparkless.connect.execution import ExecutionHolder
from sparkless.connect.relations import RelationConverter
from sparkless.connect.session import Session
from sparkless.errors import unsupported
from sparkless.plan import ir
from sparkless.plan.sql import SqlPlanner, parse_statement
from sparkless.plan.types import arrow_schema_of
from sparkless.scheduler import listener as ev

SPARK_VERSION = "4.0.0"

_SAVE_MODES = {
    cpb.WriteOperation.SAVE_MODE_UNSPECIFIED: "error",
    cpb.WriteOperation.SAVE_MODE_ERROR_IF_EXISTS: "error",
    cpb.WriteOperation.SAVE_MODE_OVERWRITE: "overwrite",
    cpb.WriteOperation.SAVE_MODE_APPEND: "append",
    cpb.WriteOperation.SAVE_MODE_IGNORE: "ignore",
}


class ConnectPlanner:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.relations = RelationConverter(session)

    # ---- ExecutePlan -------------------------------------------------------------

    def execute(self, plan: pb.Plan, holder: ExecutionHolder) -> None:
        if plan.HasField("root"):
            with self.session.lock:
                logical = self.relations.convert(plan.root)
            self._stream_query(logical, holder)
        elif plan.HasField("command"):
            self._command(plan.command, holder)
        else:
            raise unsupported("An empty plan")

    def _stream_query(self, logical: ir.Plan, holder: ExecutionHolder) -> None:
        from sparkless.connect.streaming import check_batch

        check_batch(logical)
        schema = logical.schema()
        holder.emit(pb.ExecutePlanResponse(schema=pyspark_types_to_proto_types(schema)))
        max_bytes = parse_bytes(self.session.conf.get("spark.connect.grpc.arrow.maxBatchSize") or "4m")
        max_rows = int(self.session.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch") or 10000)
        target = arrow_schema_of(schema)
        offset = 0
        sent_any = False
        progress = _Progress(holder)
        self.session.engine.bus.add(progress)
        try:
            for table in self.session.execute(logical):
                for batch in _batches(table, max_rows, max_bytes):
                    holder.emit(_arrow_response(batch, offset))
                    offset += batch.num_rows
                    sent_any = True
        finally:
            self.session.engine.bus.remove(progress)
        if not sent_any:  # the client wants the schema as an Arrow batch too
            holder.emit(_arrow_response(target.empty_table(), 0))

    def _command(self, cmd: cpb.Command, holder: ExecutionHolder) -> None:
        kind = cmd.WhichOneof("command_type")
        if kind == "sql_command":
            self._sql_command(cmd.sql_command, holder)
        elif kind == "create_dataframe_view":
            c = cmd.create_dataframe_view
            with self.session.lock:
                plan = self.relations.convert(c.input)
                if c.is_global:
                    from sparkless.catalog import create_global_view

                    create_global_view(self.session, c.name, plan, c.replace)
                else:
                    self.session.create_view(c.name, plan, c.replace)
        elif kind == "write_operation":
            self._write(cmd.write_operation)
        elif kind == "checkpoint_command":
            from sparkless.connect.cache import checkpoint

            checkpoint(self, cmd.checkpoint_command, holder)
        elif kind == "remove_cached_remote_relation_command":
            from sparkless.connect.cache import remove_remote

            remove_remote(self.session, cmd.remove_cached_remote_relation_command.relation.relation_id)
        elif kind == "register_function":
            from sparkless.plan.python_udf import register_function

            register_function(self.session, cmd.register_function)
        else:
            raise unsupported(f"The command '{kind}'")

    def _sql_command(self, c: cpb.SqlCommand, holder: ExecutionHolder) -> None:
        text = c.input.sql.query if c.HasField("input") else c.sql
        from sparkless.connect.tables import run_statement

        rel = run_statement(self, text)  # DDL / DML on tables and views
        if rel is not None:
            holder.emit(
                pb.ExecutePlanResponse(sql_command_result=pb.ExecutePlanResponse.SqlCommandResult(relation=rel))
            )
            return
        stmt = parse_statement(text)
        if isinstance(stmt, exp.Create) and stmt.kind == "VIEW":
            if not stmt.args.get("temporary") and "TEMP" not in stmt.sql("spark").upper():
                raise unsupported("Persistent views (use CREATE TEMPORARY VIEW)")
            with self.session.lock:
                plan = SqlPlanner(self.session).plan(stmt.expression)
                self.session.create_view(stmt.this.name, plan, bool(stmt.args.get("replace")))
            rel = rpb.Relation(local_relation=rpb.LocalRelation())
        elif isinstance(stmt, exp.Drop) and stmt.kind == "VIEW":
            self.session.views.pop(stmt.this.name.lower(), None)
            rel = rpb.Relation(local_relation=rpb.LocalRelation())
        else:
            with self.session.lock:
                # analysis errors surface at spark.sql(); the plan is kept for the schema
                # and execution requests that follow with the same text
                self.session.plan_cache.analyse(
                    self.session, text, lambda: SqlPlanner(self.session).plan(stmt)
                )
            rel = rpb.Relation(sql=rpb.SQL(query=text))
        holder.emit(
            pb.ExecutePlanResponse(sql_command_result=pb.ExecutePlanResponse.SqlCommandResult(relation=rel))
        )

    def _write(self, w: cpb.WriteOperation) -> None:
        if w.HasField("table"):
            from sparkless.connect.tables import write_table

            return write_table(self, w)
        if not w.HasField("path"):
            raise unsupported("A write without a path or table")
        fmt = (w.source or "parquet").lower()
        with self.session.lock:
            logical = self.relations.convert(w.input)
        self.write_files(
            logical, w.path, fmt, _SAVE_MODES[w.mode], list(w.partitioning_columns), dict(w.options), w
        )

    def write_files(
        self,
        logical: ir.Plan,
        path: str,
        fmt: str,
        mode: str,
        partition_by: list[str],
        options: dict[str, str],
        w: cpb.WriteOperation | None = None,
    ) -> bool:
        """Run ``logical`` into files at ``path``, committed atomically; False if skipped."""
        from sparkless.connect.streaming import check_batch

        check_batch(logical)
        if fmt not in ("parquet", "csv", "json", "text", "orc", "xml"):
            raise unsupported(f"Writing the format '{fmt}'")
        if fmt == "text":
            data_cols = [a for a in logical.output if a.name.lower() not in {p.lower() for p in partition_by}]
            from pyspark.sql.types import StringType

            if len(data_cols) != 1 or not isinstance(data_cols[0].dtype, StringType):
                from sparkless.errors import AnalysisException

                raise AnalysisException(
                    f"Text data source supports only a single column, and you have {len(data_cols)} columns."
                    if len(data_cols) != 1 else
                    f"The Text datasource doesn't support the column `{data_cols[0].name}` of the type "
                    f"\"{data_cols[0].dtype.simpleString().upper()}\".",
                    "UNSUPPORTED_DATA_TYPE_FOR_DATASOURCE", sql_state="0A000",
                )
        if w is not None and (w.bucket_by.bucket_column_names or w.sort_column_names):
            raise unsupported("bucketBy / sortBy on write")
        committer = committer_for(path, mode, self.session.conf.snapshot())
        if not committer.should_write():
            return False
        names = {a.name.lower() for a in logical.output}
        for p in partition_by:
            if p.lower() not in names:
                from sparkless.errors import AnalysisException

                raise AnalysisException(
                    f"Partition column `{p}` not found in schema {logical.schema().simpleString()}.",
                    "COLUMN_NOT_FOUND",
                )

        def output_for(partition: int, attempt: int) -> dict:
            return {
                "kind": "files",
                "format": fmt,
                "path": committer.task_dir(partition, attempt),
                "partition_by": partition_by,
                "options": options,
                "file_prefix": committer.file_prefix(partition),
            }

        try:
            accepted = self.run_to_files(logical, f"write {fmt} {path}", output_for)
            committer.commit(accepted)
            from sparkless.connect.cache import invalidate

            invalidate(self.session, str(committer.target))  # cached results that read it
        except BaseException:
            committer.abort()
            raise
        return True

    def run_to_files(
        self, logical: ir.Plan, description: str, output_for: Callable[[int, int], dict]
    ) -> dict[int, dict]:
        """Run ``logical`` with each task attempt writing files where ``output_for(partition,
        attempt)`` says; the accepted attempts' outputs by partition. The job's shuffle
        blocks are deleted whether it succeeds or not; the files are the caller's."""
        scheduler = self.session.scheduler(logical, description, output_for)
        try:
            return dict(scheduler.run())
        finally:
            scheduler.cleanup()

    # ---- AnalyzePlan -------------------------------------------------------------

    def analyze(self, req: pb.AnalyzePlanRequest) -> pb.AnalyzePlanResponse:
        resp = pb.AnalyzePlanResponse(
            session_id=req.session_id, server_side_session_id=self.session.server_side_session_id
        )
        kind = req.WhichOneof("analyze")
        if kind == "schema":
            plan = self.relations.convert(req.schema.plan.root)
            resp.schema.schema.CopyFrom(pyspark_types_to_proto_types(plan.schema()))
        elif kind == "explain":
            plan = self.relations.convert(req.explain.plan.root)
            from sparkless.connect.explain import explain_string

            resp.explain.explain_string = explain_string(self.session, plan, req.explain.explain_mode)
        elif kind == "tree_string":
            plan = self.relations.convert(req.tree_string.plan.root)
            level = req.tree_string.level if req.tree_string.HasField("level") else None
            resp.tree_string.tree_string = tree_string(plan.schema(), level)
        elif kind == "is_local":
            # Spark: the analyzed plan is a LocalRelation (collect() needs no job).
            plan = self.relations.convert(req.is_local.plan.root)
            while isinstance(plan, (ir.Tagged, ir.Alias)):
                plan = plan.child
            resp.is_local.is_local = isinstance(plan, ir.LocalRelation)
        elif kind == "is_streaming":
            from sparkless.connect.streaming import is_streaming

            resp.is_streaming.is_streaming = is_streaming(self.relations.convert(req.is_streaming.plan.root))
        elif kind == "input_files":
            plan = self.relations.convert(req.input_files.plan.root)
            files = [f for n in ir.walk(plan) if isinstance(n, ir.FileScan) for f in n.files]
            resp.input_files.files.extend(f if "://" in f else f"file://{f}" for f in files)
        elif kind == "spark_version":
            resp.spark_version.version = SPARK_VERSION
        elif kind == "ddl_parse":
            from sparkless.connect.relations import parse_schema
            from sparkless.plan.types import parse_ddl

            text = req.ddl_parse.ddl_string
            # Spark's DataType.fromDDL: a data type (map<string,int> stays a map), else fields.
            dt = parse_schema(text) if text.strip().startswith("{") else parse_ddl(text)
            resp.ddl_parse.parsed.CopyFrom(pyspark_types_to_proto_types(dt))
        elif kind == "same_semantics":
            a = self.relations.convert(req.same_semantics.target_plan.root)
            b = self.relations.convert(req.same_semantics.other_plan.root)
            resp.same_semantics.result = canonical(a) == canonical(b)
        elif kind == "semantic_hash":
            plan = self.relations.convert(req.semantic_hash.plan.root)
            resp.semantic_hash.result = zlib.crc32(canonical(plan).encode()) & 0x7FFFFFFF
        elif kind in ("persist", "unpersist", "get_storage_level"):
            from sparkless.connect.cache import analyze as cache_analyze

            cache_analyze(self, kind, req, resp)
        else:
            raise unsupported(f"AnalyzePlan '{kind}'")
        return resp


def canonical(plan: ir.Plan) -> str:
    """The plan's operators and expressions (not the names given to computed columns),
    attribute ids renumbered by first use: equal for equal queries (Spark's sameSemantics
    compares canonicalized plans, where aliases do not matter)."""
    lines: list[str] = []

    def visit(p: ir.Plan, depth: int) -> None:
        if isinstance(p, ir.Tagged):
            return visit(p.child, depth)
        if isinstance(p, (ir.Project, ir.WindowProject)):
            text = f"{p.node_name()} [{', '.join(e.expr.sql('duckdb') for e in p.exprs)}]"
        elif isinstance(p, ir.Aggregate):
            keys = ", ".join(k.sql("duckdb") for k in p.keys)
            text = f"Aggregate [{keys}] [{', '.join(e.expr.sql('duckdb') for e in p.aggs)}]"
        else:
            text = p.describe()
        lines.append("  " * depth + text)
        for c in p.children:
            visit(c, depth + 1)

    visit(plan, 0)
    ids: dict[str, str] = {}
    return re.sub(r"_c\d+", lambda m: ids.setdefault(m.group(0), f"#{len(ids)}"), "\n".join(lines))


class _Progress:
    """Forwards this execution's stage progress as ExecutionProgress messages."""

    def __init__(self, holder: ExecutionHolder) -> None:
        self.holder = holder
        self.stages: dict[int, list[int]] = {}  # stage -> [num_tasks, completed, bytes]
        self.job: str | None = None

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.JobStart):
            if self.job is None:
                self.job = event.job_id
            return
        if getattr(event, "job_id", None) != self.job:
            return
        if isinstance(event, ev.StageSubmitted):
            self.stages[event.stage_id] = [event.num_tasks, 0, 0]
        elif isinstance(event, ev.TaskEnd) and event.ok and event.stage_id in self.stages:
            s = self.stages[event.stage_id]
            s[1] += 1
            s[2] += event.input_bytes
            self._send()

    def _send(self) -> None:
        msg = pb.ExecutePlanResponse.ExecutionProgress(num_inflight_tasks=0)
        for sid, (n, done, nbytes) in self.stages.items():
            msg.stages.add(stage_id=sid, num_tasks=n, num_completed_tasks=done, input_bytes_read=nbytes, done=done >= n)
        try:
            self.holder.emit(pb.ExecutePlanResponse(execution_progress=msg))
        except Exception:  # noqa: BLE001 - interrupted: the job's own thread reports it
            pass


def _batches(table: pa.Table, max_rows: int, max_bytes: int):
    for batch in table.to_batches(max_chunksize=max_rows):
        if batch.num_rows == 0:
            continue
        if batch.nbytes > max_bytes and batch.num_rows > 1:
            step = max(1, batch.num_rows * max_bytes // max(1, batch.nbytes))
            for i in range(0, batch.num_rows, step):
                yield batch.slice(i, step)
        else:
            yield batch


def _arrow_response(data: pa.Table | pa.RecordBatch, offset: int) -> pb.ExecutePlanResponse:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as w:
        if isinstance(data, pa.Table) and data.num_rows == 0:
            # One zero-row batch: the client needs a batch to learn the (empty) result.
            w.write_batch(pa.RecordBatch.from_pylist([], schema=data.schema))
        elif isinstance(data, pa.Table):
            w.write_table(data)
        else:
            w.write_batch(data)
    return pb.ExecutePlanResponse(
        arrow_batch=pb.ExecutePlanResponse.ArrowBatch(
            row_count=data.num_rows, data=sink.getvalue().to_pybytes(), start_offset=offset
        )
    )


def tree_string(schema: StructType, level: int | None = None) -> str:
    """printSchema()'s text, as Spark's StructType.treeString."""
    from pyspark.sql.types import ArrayType, MapType

    lines = ["root"]

    def visit(dt, prefix: str, depth: int) -> None:  # noqa: ANN001
        if level is not None and depth > level:
            return
        if isinstance(dt, StructType):
            for f in dt.fields:
                lines.append(f"{prefix}-- {f.name}: {_type_name(f.dataType)} (nullable = {str(f.nullable).lower()})")
                visit(f.dataType, prefix + "    |", depth + 1)
        elif isinstance(dt, ArrayType):
            lines.append(f"{prefix}-- element: {_type_name(dt.elementType)} (containsNull = {str(dt.containsNull).lower()})")
            visit(dt.elementType, prefix + "    |", depth + 1)
        elif isinstance(dt, MapType):
            lines.append(f"{prefix}-- key: {_type_name(dt.keyType)}")
            visit(dt.keyType, prefix + "    |", depth + 1)
            lines.append(
                f"{prefix}-- value: {_type_name(dt.valueType)} (valueContainsNull = {str(dt.valueContainsNull).lower()})"
            )
            visit(dt.valueType, prefix + "    |", depth + 1)

    visit(schema, " |", 1)
    return "\n".join(lines) + "\n"


def _type_name(dt) -> str:  # noqa: ANN001
    from pyspark.sql.types import ArrayType, MapType

    if isinstance(dt, StructType):
        return "struct"
    if isinstance(dt, ArrayType):
        return "array"
    if isinstance(dt, MapType):
        return "map"
    return dt.simpleString()
