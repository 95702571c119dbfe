"""Analysed plans of ``spark.sql`` texts, reused while nothing they depend on has changed.

The stock client sends one SQL text three times for ``spark.sql(q).toArrow()``: the
``SqlCommand`` (analysed so that errors surface at ``spark.sql``), ``AnalyzePlan`` for the
schema, and ``ExecutePlan``. Analysis is most of the driver's planning time, so the
session keeps the last few analysed plans, as Spark Connect's own per-session plan cache
does (``spark.connect.session.planCache.*``).

A plan is reused only while the session looks the same to the analyser: the same conf,
temp views, global temp views, current database and registered functions (compared by
identity), and no cached or checkpointed data (those substitute plans by relation). Texts
whose plans could legitimately differ on a second analysis are never kept: ones that read
catalog tables (their files change under ``INSERT``) and ones that may call a seedless
random function (Spark draws a new seed on every analysis).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sparkless.plan import ir

if TYPE_CHECKING:
    from sparkless.connect.session import Session

MAX_PLANS = 16
# Functions whose value changes from one analysis to the next (a seed drawn when planned).
_VOLATILE = re.compile(r"\b(rand|randn|random|uniform|randstr|shuffle|uuid)\s*\(", re.IGNORECASE)


def _state(session: Session) -> tuple[Any, ...] | None:
    """What analysis reads from the session, or None when a plan must not be reused."""
    cached = getattr(session, "_cache_state", None)
    if cached and any(cached.values()):
        return None
    from sparkless import catalog

    cat = catalog.catalog_of(session.engine)
    return (
        tuple(sorted(session.conf.snapshot().items())),
        session.current_database,
        tuple(session.views.items()),
        tuple(cat.global_views.items()),
        tuple(session.analyzer.udfs.items()),
        tuple(cat.__dict__.get("java_functions", {}).items()),
    )


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Equal settings and the very same view, function and table objects."""
    conf_a, db_a, *objects_a = a
    conf_b, db_b, *objects_b = b
    if conf_a != conf_b or db_a != db_b:
        return False
    for xs, ys in zip(objects_a, objects_b, strict=True):
        if len(xs) != len(ys):
            return False
        if any(kx != ky or vx is not vy for (kx, vx), (ky, vy) in zip(xs, ys, strict=True)):
            return False
    return True


class PlanCache:
    """Per session: SQL text -> (session state, analysed plan), least recently used first."""

    def __init__(self, max_plans: int = MAX_PLANS) -> None:
        self.max_plans = max_plans
        self._plans: OrderedDict[str, tuple[tuple[Any, ...], ir.Plan]] = OrderedDict()
        self.hits = 0

    def analyse(self, session: Session, text: str, plan: Callable[[], ir.Plan]) -> ir.Plan:
        """The plan of ``text``: a kept one if the session is unchanged, else ``plan()``."""
        state = _state(session)
        if state is None or _VOLATILE.search(text):
            return plan()
        kept = self._plans.get(text)
        if kept is not None and _same(kept[0], state):
            self._plans.move_to_end(text)
            self.hits += 1
            return kept[1]
        tables_before = session.catalog_table_reads
        result = plan()
        if session.catalog_table_reads == tables_before:
            self._plans[text] = (state, result)
            self._plans.move_to_end(text)
            while len(self._plans) > self.max_plans:
                self._plans.popitem(last=False)
        return result

    def clear(self) -> None:
        self._plans.clear()
