"""Console progress and the job summary, fed events directly (no server)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from sparkless.progress import ConsoleProgress, JobSummary, render_bar
from sparkless.scheduler.listener import (
    JobEnd,
    JobStart,
    StageCompleted,
    StageSubmitted,
    TaskEnd,
)


@dataclass(frozen=True)
class TaskStart:
    """Not (yet) in the listener contract; the progress bar accepts it if posted."""

    job_id: str
    stage_id: int
    partition: int


def _task(stage: int, ok: bool = True, job: str = "j1") -> TaskEnd:
    return TaskEnd(job_id=job, stage_id=stage, partition=0, attempt=0, ok=ok, seconds=0.01)


def test_render_bar_matches_spark_layout() -> None:
    # Spark: header + bar of width (width - len(header) - len(tail)) + tail.
    # Bar width 40 - 9 - 14 = 17; 17 * 12 // 40 = 5 cells done, then the arrow head.
    line = render_bar(3, 12, 40, 2, width=40)
    assert line == "[Stage 3:=====>           (12 + 2) / 40]"
    assert len(line) == 40


def test_render_bar_edges() -> None:
    assert render_bar(0, 0, 4, 0, width=30) == "[Stage 0:>        (0 + 0) / 4]"
    assert render_bar(0, 4, 4, 0, width=30) == "[Stage 0:=========(4 + 0) / 4]"
    # No room for a bar: header and tail only, never a negative width.
    assert render_bar(7, 1, 2, 1, width=5) == "[Stage 7:(1 + 1) / 2]"
    # Without task starts the tail does not invent a running count.
    assert render_bar(1, 1, 4, None, width=24) == "[Stage 1:=>     (1 / 4)]"


def test_tty_redraws_with_carriage_return_and_clears_at_stage_end() -> None:
    out = io.StringIO()
    p = ConsoleProgress(out, tty=True, width=40, min_interval=0.0, show_after=0.0)
    p(JobStart("j1", "collect", 1))
    p(StageSubmitted("j1", 3, 40, "ResultStage 3"))
    for _ in range(12):
        p(TaskStart("j1", 3, 0))
        p(_task(3))
    p(TaskStart("j1", 3, 0))
    p(TaskStart("j1", 3, 0))
    text = out.getvalue()
    assert "\n" not in text
    assert text.split("\r")[-1] == "[Stage 3:=====>           (12 + 2) / 40]"
    p(StageCompleted("j1", 3, 40, 1.5))
    # The finished stage's bar is blanked out and the cursor is back at column 0.
    assert out.getvalue().endswith("\r" + " " * 40 + "\r")
    p(JobEnd("j1", True, 1.6))
    assert "\n" not in out.getvalue()


def test_tty_redraw_is_throttled() -> None:
    now = [0.0]
    out = io.StringIO()
    p = ConsoleProgress(
        out, tty=True, width=40, min_interval=0.1, show_after=0.0, clock=lambda: now[0]
    )
    p(StageSubmitted("j1", 0, 100, "ResultStage 0"))
    draws = out.getvalue().count("\r")
    for _ in range(50):
        p(_task(0))
    assert out.getvalue().count("\r") == draws  # all within 100 ms: no redraw
    now[0] = 1.0
    p(_task(0))
    assert out.getvalue().split("\r")[-1] == "[Stage 0:==========>         (51 / 100)]"


def test_tty_concurrent_stages_share_the_line() -> None:
    out = io.StringIO()
    p = ConsoleProgress(out, tty=True, width=80, min_interval=0.0, show_after=0.0)
    p(StageSubmitted("j1", 0, 4, "ShuffleMapStage 0"))
    p(StageSubmitted("j1", 1, 2, "ShuffleMapStage 1"))
    p(_task(1))
    last = out.getvalue().split("\r")[-1]
    assert last.startswith("[Stage 0:") and "[Stage 1:" in last
    assert len(last) == 80


def test_not_a_tty_prints_one_line_per_stage() -> None:
    out = io.StringIO()
    p = ConsoleProgress(out, tty=False)
    p(JobStart("j1", "collect", 2))
    p(StageSubmitted("j1", 0, 2, "ShuffleMapStage 0"))
    p(_task(0))
    p(_task(0))
    p(StageCompleted("j1", 0, 2, 0.25))
    p(StageSubmitted("j1", 1, 3, "ResultStage 1"))
    p(_task(1))
    p(_task(1, ok=False))
    p(StageCompleted("j1", 1, 3, 1.0, failed=True))
    p(JobEnd("j1", False, 1.3))
    assert out.getvalue() == (
        "[Stage 0] 2 tasks done in 0.25 s\n[Stage 1] failed after 1.00 s (1 / 3 tasks done)\n"
    )
    assert "\r" not in out.getvalue()


def test_close_erases_a_bar_left_on_screen() -> None:
    out = io.StringIO()
    p = ConsoleProgress(out, tty=True, width=30, min_interval=0.0, show_after=0.0)
    p(StageSubmitted("j1", 0, 4, "ResultStage 0"))
    p.close()
    assert out.getvalue().endswith("\r" + " " * 30 + "\r")
    p.close()  # idempotent
    assert out.getvalue().count(" " * 30) == 1


def test_events_of_unknown_stages_are_ignored() -> None:
    out = io.StringIO()
    p = ConsoleProgress(out, tty=True, width=30, min_interval=0.0, show_after=0.0)
    p(_task(9))
    assert out.getvalue() == ""


def test_summary_counts_jobs_stages_tasks() -> None:
    s = JobSummary()
    for ev in [
        JobStart("j1", "collect", 2),
        StageSubmitted("j1", 0, 2, "ShuffleMapStage 0"),
        _task(0),
        _task(0, ok=False),
        _task(0),
        StageCompleted("j1", 0, 2, 0.2),
        StageSubmitted("j1", 1, 1, "ResultStage 1"),
        _task(1),
        StageCompleted("j1", 1, 1, 0.1),
        JobEnd("j1", True, 0.4),
        JobStart("j2", "count", 1),
        JobEnd("j2", False, 0.1),
    ]:
        s(ev)
    assert s.line(4.2) == (
        "sparkless: 2 jobs (1 failed), 2 stages, 3 tasks (1 failed attempt) in 4.20 s"
    )
    assert JobSummary().line(0.5) == "sparkless: 0 jobs, 0 stages, 0 tasks in 0.50 s"


def test_stage_numbers_run_on_across_jobs_like_spark() -> None:
    # The scheduler numbers stages per job; Spark's stage ids are unique in the app.
    out = io.StringIO()
    p = ConsoleProgress(out, tty=False)
    for job, stages in (("a", 2), ("b", 3)):
        p(JobStart(job, "collect", stages))
        for sid in range(stages):
            p(StageSubmitted(job, sid, 1, f"Stage {sid}"))
            p(_task(sid, job=job))
            p(StageCompleted(job, sid, 1, 0.01))
        p(JobEnd(job, True, 0.1))
    shown = [line.split("]")[0] for line in out.getvalue().splitlines()]
    assert shown == [f"[Stage {i}" for i in range(5)]
    assert out.getvalue().splitlines()[0] == "[Stage 0] 1 task done in 0.01 s"


def test_tty_bar_shows_the_app_wide_stage_number() -> None:
    out = io.StringIO()
    p = ConsoleProgress(out, tty=True, width=30, min_interval=0.0, show_after=0.0)
    p(JobStart("a", "count", 2))
    p(JobEnd("a", True, 0.1))
    p(JobStart("b", "collect", 1))
    p(StageSubmitted("b", 0, 4, "ResultStage 0"))
    assert out.getvalue().split("\r")[-1].startswith("[Stage 2:")


def test_tty_short_stages_are_not_drawn_and_the_ticker_redraws() -> None:
    now = [0.0]
    out = io.StringIO()
    p = ConsoleProgress(out, tty=True, width=30, min_interval=0.0, clock=lambda: now[0])
    p(StageSubmitted("j1", 0, 2, "ResultStage 0"))
    p(_task(0))
    assert out.getvalue() == ""  # younger than 0.5 s, as in Spark
    now[0] = 0.6
    p.tick()  # no event, but the timer shows the long-running stage
    assert out.getvalue() == "\r[Stage 0:======>      (1 / 2)]"
    p(StageCompleted("j1", 0, 2, 0.7))
    assert out.getvalue().endswith("\r" + " " * 30 + "\r")


def test_ticker_thread_starts_only_on_a_terminal_and_stops_on_close() -> None:
    piped = ConsoleProgress(io.StringIO(), tty=False)
    piped.start(0.01)
    assert piped._ticker is None
    out = io.StringIO()
    p = ConsoleProgress(out, tty=True, width=30, min_interval=0.0, show_after=0.0)
    p.start(0.01)
    p(StageSubmitted("j1", 0, 2, "ResultStage 0"))
    p.close()
    assert p._ticker is None and out.getvalue().endswith("\r")
