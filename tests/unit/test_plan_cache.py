"""The session's plan cache: a SQL text is analysed once while the session is unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sparkless.connect.session import Session
from sparkless.engine import Engine
from sparkless.plan.sql import SqlPlanner


@pytest.fixture
def session() -> Iterator[Session]:
    engine = Engine()  # a real engine; nothing here runs a task
    try:
        s = Session("plan-cache", "tester", engine)
        s.create_view("t", s.builder.range(0, 5, 1, None), replace=True)
        yield s
    finally:
        engine.close()


def analyse(s: Session, text: str, analyses: list[str]):
    def plan():
        analyses.append(text)
        return SqlPlanner(s).query(text)

    return s.plan_cache.analyse(s, text, plan)


def test_same_text_same_session_is_analysed_once(session: Session) -> None:
    analyses: list[str] = []
    first = analyse(session, "SELECT id + 1 AS x FROM t", analyses)
    again = analyse(session, "SELECT id + 1 AS x FROM t", analyses)
    assert again is first
    assert len(analyses) == 1
    analyse(session, "SELECT id + 2 AS x FROM t", analyses)  # another text: its own analysis
    assert len(analyses) == 2


def test_replaced_view_conf_change_and_udf_registration_invalidate(session: Session) -> None:
    analyses: list[str] = []
    text = "SELECT id FROM t"
    first = analyse(session, text, analyses)
    session.create_view("t", session.builder.range(0, 7, 1, None), replace=True)
    after_view = analyse(session, text, analyses)
    assert after_view is not first and len(analyses) == 2
    session.conf.set("spark.sql.ansi.enabled", "false")
    assert analyse(session, text, analyses) is not after_view and len(analyses) == 3
    session.conf.set("spark.sql.ansi.enabled", "true")  # back to the state of a kept plan
    analyse(session, text, analyses)
    session.current_database = "other"
    analyse(session, text, analyses)
    assert len(analyses) == 5


def test_seedless_random_is_never_reused(session: Session) -> None:
    analyses: list[str] = []
    analyse(session, "SELECT rand() AS r FROM t", analyses)
    analyse(session, "SELECT rand() AS r FROM t", analyses)
    assert len(analyses) == 2
