"""Which shuffles the scheduler may free while the job runs (``_read_once_shuffles``):
those whose every slice has exactly one reader. A broadcast is read whole by every task,
a reused exchange by several stages, a shuffle read twice in one stage by two inputs."""

from __future__ import annotations

from sparkless.physical.planner import BroadcastRead, Fixed, Frag, Shuffled, ShuffleRead
from sparkless.scheduler.dag import _read_once_shuffles
from sparkless.scheduler.state import RESULT


def test_only_shuffles_with_one_reduce_side_reader_are_released() -> None:
    once = Shuffled(Frag("SELECT * FROM a", [ShuffleRead(0, "a")]), [0], 4)
    twice = Shuffled(Frag("SELECT * FROM b JOIN c", [ShuffleRead(1, "b"), ShuffleRead(1, "c")]), [1], 4)
    broadcast = Shuffled(Frag("SELECT * FROM d JOIN e", [ShuffleRead(2, "d"), BroadcastRead(3, "e")]), [2], 4)
    again = Fixed([Frag("SELECT * FROM f", [BroadcastRead(3, "f")]), Frag("SELECT * FROM g", [ShuffleRead(4, "g")])])
    reused = Shuffled(Frag("SELECT * FROM h", [ShuffleRead(5, "h")]), [5], 4)
    groups = {10: [once, twice], 11: [broadcast, again], RESULT: [reused], 12: [reused]}
    assert _read_once_shuffles(groups) == {0, 2}
