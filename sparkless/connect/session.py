"""A Spark Connect session: its conf, temp views, and the way it runs jobs."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pyarrow as pa

from sparkless.conf import SessionConf
from sparkless.connect.expressions import split_identifier
from sparkless.connect.plan_cache import PlanCache
from sparkless.engine import Engine
from sparkless.errors import AnalysisException
from sparkless.physical.planner import PhysicalPlanner
from sparkless.plan import ir
from sparkless.plan.analyzer import Analyzer
from sparkless.plan.builder import PlanBuilder
from sparkless.plan.type_oracle import TypeOracle
from sparkless.plan.types import arrow_schema_of
from sparkless.scheduler.dag import DAGScheduler


class Session:
    def __init__(self, session_id: str, user_id: str, engine: Engine) -> None:
        self.session_id = session_id
        self.user_id = user_id
        self.server_side_session_id = str(uuid.uuid4())
        self.engine = engine
        self.conf = SessionConf(engine.base_conf)
        self.oracle = TypeOracle()
        self.analyzer = Analyzer(self.conf, self.oracle)
        self.builder = PlanBuilder(self.analyzer)
        self.views: dict[str, ir.Plan] = {}
        self.current_database = "default"
        self.plan_cache = PlanCache()
        self.catalog_table_reads = 0  # lookups that reached a catalog table (plan_cache)
        self.lock = threading.RLock()
        self.closed = False

    # ---- catalog -----------------------------------------------------------------

    def lookup_table(self, identifier: str) -> ir.Plan:
        """A temp view, a global temp view or a catalog table (sparkless/catalog.py)."""
        from sparkless import catalog

        parts = split_identifier(identifier)
        plan = catalog.lookup(self, parts)
        if plan is None:
            raise catalog.not_found(parts)
        if catalog.resolve_name(self, parts).kind == "table":
            self.catalog_table_reads += 1
        return plan

    def create_view(self, name: str, plan: ir.Plan, replace: bool) -> None:
        key = name if self.conf.case_sensitive else name.lower()
        if key in self.views and not replace:
            raise AnalysisException(
                f"Cannot create the temporary view `{name}` because it already exists.",
                "TEMP_TABLE_OR_VIEW_ALREADY_EXISTS",
                sql_state="42P07",
            )
        self.views[key] = plan

    # ---- running -----------------------------------------------------------------

    def scheduler(self, plan: ir.Plan, description: str = "", output_for=None) -> DAGScheduler:
        conf = self.conf.snapshot()
        conf.setdefault("spark.sparkless.defaultParallelism", str(self.engine.parallelism))
        planner = PhysicalPlanner(self.conf, "local", self.engine.parallelism, self.oracle)
        phys = planner.plan(plan)
        return DAGScheduler(
            phys,
            platform=self.engine.platform,
            store=self.engine.store,
            store_uri=self.engine.store_uri,
            conf=conf,
            bus=self.engine.bus,
            description=description,
            output_for=output_for,
            sizing=self.engine.sizing,
            warm_pool=self.engine.warm_pool,
            cleaner=self.engine.cleaner,
        )

    def execute(self, plan: ir.Plan, description: str = "") -> Iterator[pa.Table]:
        """Result partitions in order, each renamed to the user's column names."""
        names = [a.name for a in plan.output]
        target = arrow_schema_of(plan.schema())
        for table in self.scheduler(plan, description).results():
            yield conform(table, names, target)

    def collect(self, plan: ir.Plan) -> pa.Table:
        target = arrow_schema_of(plan.schema())
        tables = list(self.execute(plan))
        return pa.concat_tables(tables) if tables else target.empty_table()

    def close(self) -> None:
        from sparkless.connect.cache import clear

        clear(self)  # materialised caches and checkpoints
        self.plan_cache.clear()
        self.closed = True
        self.views.clear()


def conform(table: pa.Table, names: list[str], target: pa.Schema) -> pa.Table:
    """Internal ``_c<id>`` columns → the user's names and Spark's Arrow types."""
    if not names:  # zero columns, but the rows still count (df.select().count())
        batch = pa.RecordBatch.from_struct_array(pa.array([{}] * table.num_rows, pa.struct([])))
        return pa.Table.from_batches([batch])
    arrays = []
    for col, field in zip(table.columns, target):
        if col.type == pa.month_day_nano_interval() and pa.types.is_duration(field.type):
            col = _day_time(col)  # DuckDB's INTERVAL as Spark's day-time interval (micros)
        if col.type != field.type:
            try:
                col = col.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        arrays.append(col)
    return pa.Table.from_arrays(arrays, names=names)


def _day_time(col: pa.ChunkedArray) -> pa.Array:
    """month_day_nano -> duration[us]; Spark's day-time intervals have no months (a month
    DuckDB keeps counts 30 days, as DuckDB's own interval arithmetic does)."""
    return pa.array(
        [None if v is None else (v.months * 30 + v.days) * 86_400_000_000 + v.nanoseconds // 1000
         for v in col.to_pylist()],
        pa.duration("us"),
    )
