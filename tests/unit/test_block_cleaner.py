"""A finished job's blocks are deleted in the background, and none is ever left behind."""

import threading

from sparkless.physical.planner import Fixed, Frag, PhysicalPlan
from sparkless.scheduler.cleaner import BlockCleaner
from sparkless.scheduler.dag import DAGScheduler
from sparkless.scheduler.listener import ListenerBus
from storage import open_store


def test_deletions_run_in_the_background_in_order_and_flush_waits():
    cleaner = BlockCleaner()
    gate, done = threading.Event(), []
    cleaner.submit(lambda: (gate.wait(10), done.append(1)))
    cleaner.submit(lambda: done.append(2))
    assert done == [] and not cleaner.flush(timeout=0.05)  # the caller did not wait
    gate.set()
    assert cleaner.flush(timeout=10) and done == [1, 2]
    cleaner.close()


def test_after_close_a_deletion_runs_at_once():
    cleaner = BlockCleaner()
    cleaner.close()
    done = []
    cleaner.submit(lambda: done.append(threading.current_thread().name))
    assert done == [threading.current_thread().name]


def test_a_failing_deletion_does_not_stop_the_next():
    cleaner = BlockCleaner()
    done = []
    cleaner.submit(lambda: 1 / 0)
    cleaner.submit(lambda: done.append("next"))
    assert cleaner.flush(timeout=10) and done == ["next"]
    cleaner.close()


def _dag(tmp_path, cleaner):
    uri = tmp_path.as_uri()
    store = open_store(uri)
    phys = PhysicalPlan([Fixed([Frag("SELECT 1 AS _c0")])], [], {}, [])
    dag = DAGScheduler(phys, platform=None, store=store, store_uri=uri, conf={}, bus=ListenerBus(),
                       cleaner=cleaner)
    store.put(f"{dag.job_id}/stage-0/part-00000/attempt-0/shuffle.data", b"x" * 100)
    return dag, store


def test_job_cleanup_hands_the_deletion_to_the_cleaner(tmp_path):
    cleaner = BlockCleaner()
    gate = threading.Event()
    cleaner.submit(lambda: gate.wait(10))  # keep the cleaner busy
    dag, store = _dag(tmp_path, cleaner)
    dag.cleanup()
    assert list(store.list_prefix(dag.job_id + "/"))  # still there: the caller went on
    gate.set()
    assert cleaner.flush(timeout=10)
    assert list(store.list_prefix(dag.job_id + "/")) == []
    cleaner.close()


def test_without_a_cleaner_the_job_deletes_its_blocks_itself(tmp_path):
    dag, store = _dag(tmp_path, None)
    dag.cleanup()
    assert list(store.list_prefix(dag.job_id + "/")) == []
