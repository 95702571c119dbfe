"""The DAG scheduler's rules, without processes: events in, actions out."""

from __future__ import annotations

from sparkless.scheduler.state import (
    RESULT,
    JobFailed,
    JobState,
    JobSucceeded,
    LaunchTask,
    Policy,
    StageCompleted,
    SubmitStage,
)


def two_stage(policy: Policy | None = None) -> JobState:
    """Map stage 0 feeds the result stage (a shuffle)."""
    return JobState({0: set(), RESULT: {0}}, policy or Policy())


def launches(actions) -> list[tuple[int, int, int, bool]]:
    return [(a.stage, a.partition, a.attempt, a.speculative) for a in actions if isinstance(a, LaunchTask)]


def test_stages_run_in_dependency_order():
    s = two_stage()
    assert s.start() == [SubmitStage(0)]  # the result stage waits for its shuffle
    assert launches(s.stage_submitted(0, 2, now=0)) == [(0, 0, 0, False), (0, 1, 0, False)]
    assert s.task_succeeded(0, 0, 0, {"k": "m0"}, now=1) == []
    actions = s.task_succeeded(0, 1, 0, {"k": "m1"}, now=1)
    assert actions == [StageCompleted(0), SubmitStage(RESULT)]
    assert launches(s.stage_submitted(RESULT, 1, now=2)) == [(RESULT, 0, 0, False)]
    assert s.task_succeeded(RESULT, 0, 0, {"k": "r"}, now=3) == [StageCompleted(RESULT), JobSucceeded()]


def test_independent_stages_are_submitted_together():
    s = JobState({0: set(), 1: set(), RESULT: {0, 1}}, Policy())
    assert s.start() == [SubmitStage(0), SubmitStage(1)]


def test_failed_attempt_is_retried_until_max_failures():
    s = two_stage(Policy(max_failures=3))
    s.start()
    s.stage_submitted(0, 1, now=0)
    assert launches(s.task_failed(0, 0, 0, {"message": "boom"}, now=1)) == [(0, 0, 1, False)]
    assert launches(s.task_failed(0, 0, 1, {"message": "boom"}, now=2)) == [(0, 0, 2, False)]
    (failed,) = s.task_failed(0, 0, 2, {"message": "boom"}, now=3)
    assert isinstance(failed, JobFailed) and failed.error == {"message": "boom"}
    assert s.counters.failed_attempts == 3


def test_fetch_failure_recomputes_exactly_the_lost_map_output():
    s = two_stage()
    s.start()
    s.stage_submitted(0, 3, now=0)
    for p in range(3):
        s.task_succeeded(0, p, 0, {"key": f"m{p}"}, now=1)
    s.stage_submitted(RESULT, 2, now=1)
    # Reducer 1 cannot read map output 2: only map task 2 runs again (attempt 1).
    assert launches(s.fetch_failed(RESULT, 1, 0, 0, 2, now=2)) == [(0, 2, 1, False)]
    assert s.output(0, 2) is None and s.output(0, 0) is not None
    # Reducer 0 succeeds meanwhile; when map 2 is back, reducer 1 runs again (attempt 1).
    s.task_succeeded(RESULT, 0, 0, {"key": "r0"}, now=2)
    actions = s.task_succeeded(0, 2, 1, {"key": "m2'"}, now=3)
    assert StageCompleted(0) in actions and launches(actions) == [(RESULT, 1, 1, False)]
    assert s.task_succeeded(RESULT, 1, 1, {"key": "r1"}, now=4)[-1] == JobSucceeded()
    assert s.counters.recomputed_map_tasks == 1 and s.counters.fetch_failures == 1


def test_two_readers_losing_the_same_output_recompute_it_once():
    s = two_stage()
    s.start()
    s.stage_submitted(0, 1, now=0)
    s.task_succeeded(0, 0, 0, {"key": "m0"}, now=1)
    s.stage_submitted(RESULT, 2, now=1)
    assert launches(s.fetch_failed(RESULT, 0, 0, 0, 0, now=2)) == [(0, 0, 1, False)]
    assert launches(s.fetch_failed(RESULT, 1, 0, 0, 0, now=2)) == []
    actions = s.task_succeeded(0, 0, 1, {"key": "m0'"}, now=3)
    assert sorted(launches(actions)) == [(RESULT, 0, 1, False), (RESULT, 1, 1, False)]


def test_straggler_gets_a_speculative_copy_and_first_result_wins():
    s = two_stage(Policy(speculation=True, speculation_quantile=0.75, speculation_multiplier=1.5))
    s.start()
    s.stage_submitted(0, 4, now=0)
    for p in range(3):
        s.task_succeeded(0, p, 0, {"key": f"m{p}"}, now=1.0)  # median 1 s
    assert s.tick(now=1.2) == []  # 1.2 s is not beyond 1.5 × the median
    assert launches(s.tick(now=2.0)) == [(0, 3, 1, True)]
    assert s.tick(now=3.0) == []  # one copy per straggler
    # The copy finishes first; the original's late result is ignored.
    assert s.task_succeeded(0, 3, 1, {"key": "copy"}, now=2.5)[0] == StageCompleted(0)
    assert s.task_succeeded(0, 3, 0, {"key": "original"}, now=9.0) == []
    assert s.output(0, 3) == {"key": "copy"}
    assert s.counters.speculative_tasks == 1 and s.counters.duplicate_results_ignored == 1


def test_no_speculation_unless_enabled():
    s = two_stage()
    s.start()
    s.stage_submitted(0, 2, now=0)
    s.task_succeeded(0, 0, 0, {}, now=1)
    assert s.tick(now=100) == []


def test_failure_of_a_speculated_task_waits_for_its_copy():
    s = two_stage(Policy(speculation=True))
    s.start()
    s.stage_submitted(0, 4, now=0)
    for p in range(3):
        s.task_succeeded(0, p, 0, {}, now=1.0)
    s.tick(now=5.0)  # copy of partition 3 as attempt 1
    assert s.task_failed(0, 3, 0, {"message": "killed"}, now=5.1) == []  # the copy runs on
    assert s.task_succeeded(0, 3, 1, {}, now=6.0)[0] == StageCompleted(0)


def test_empty_stage_completes_at_once():
    s = two_stage()
    s.start()
    assert s.stage_submitted(0, 0, now=0) == [StageCompleted(0), SubmitStage(RESULT)]


def test_stage_holds_at_most_its_planned_functions_and_refills():
    s = two_stage()
    s.start()
    assert launches(s.stage_submitted(0, 5, now=0, limit=2)) == [(0, 0, 0, False), (0, 1, 0, False)]
    assert s.pending(0) == 3
    assert launches(s.task_succeeded(0, 0, 0, {}, now=1)) == [(0, 2, 0, False)]
    # The backend grows the stage while it runs: two more functions at once.
    assert launches(s.set_limit(0, 4, now=1)) == [(0, 3, 0, False), (0, 4, 0, False)]
    assert s.pending(0) == 0
