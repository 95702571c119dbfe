"""Sessions, config, stop, authentication and server lifecycle, seen from a client."""

from __future__ import annotations

import uuid

import pytest
from pyspark.errors import AnalysisException, PySparkException

from tests.conftest import classic_mode, connect_builder, start_server, wait_port_closed

KEY = "spark.sql.shuffle.partitions"


def test_several_sessions_have_independent_confs(new_session):
    a, b = new_session(), new_session()
    a.conf.set(KEY, "3")
    b.conf.set(KEY, "7")
    assert a.conf.get(KEY) == "3"
    assert b.conf.get(KEY) == "7"
    a.conf.set("spark.sql.session.timeZone", "America/New_York")
    assert b.conf.get("spark.sql.session.timeZone") == "UTC"
    assert a.range(10).count() == b.range(10).count() == 10


def test_several_sessions_have_independent_temp_views(new_session):
    a, b = new_session(), new_session()
    a.range(3).createOrReplaceTempView("e2e_shared_name")
    b.range(10, 15).createOrReplaceTempView("e2e_shared_name")
    assert sorted(r.id for r in a.sql("SELECT * FROM e2e_shared_name").collect()) == [0, 1, 2]
    assert sorted(r.id for r in b.table("e2e_shared_name").collect()) == [10, 11, 12, 13, 14]
    a.range(1).createOrReplaceTempView("e2e_only_in_a")
    with pytest.raises(AnalysisException):
        b.table("e2e_only_in_a").collect()


def test_sessions_interleaved_queries(new_session):
    sessions = [new_session() for _ in range(3)]
    for round_ in range(2):
        for i, s in enumerate(sessions):
            assert s.range(0, 100 * (i + 1), 1, 2).groupBy().sum("id").collect()[0][0] == sum(
                range(100 * (i + 1))), round_


def test_session_ids_differ(new_session):
    a, b = new_session(), new_session()
    assert a.session_id != b.session_id


def test_conf_set_get_unset(compare, new_session):
    s = new_session()
    with classic_mode():
        o = compare.oracle.newSession()  # same launch-time conf as the oracle, own settings
        o.conf.set(KEY, "11")
        o_set = o.conf.get(KEY)
        o.conf.unset(KEY)
        o_unset = o.conf.get(KEY)  # Spark: the SQLConf default, not the launch-time value
    s.conf.set(KEY, "11")
    assert s.conf.get(KEY) == o_set == "11"
    s.conf.unset(KEY)
    assert s.conf.get(KEY) == o_unset


def test_conf_unset_custom_key(new_session):
    s = new_session()
    key = "spark.e2e.unset." + uuid.uuid4().hex
    s.conf.set(key, "x")
    assert s.conf.get(key) == "x"
    s.conf.unset(key)
    assert s.conf.get(key, "gone") == "gone"


def test_conf_server_defaults_from_command_line(new_session):
    s = new_session()
    assert s.conf.get(KEY) == "4"
    assert s.conf.get("spark.sql.session.timeZone") == "UTC"


def test_conf_get_with_default_and_missing(compare, new_session):
    s = new_session()
    key = "spark.e2e.custom.key." + uuid.uuid4().hex
    assert s.conf.get(key, "fallback") == "fallback"
    assert s.conf.get(key, None) is None
    with classic_mode(), pytest.raises(PySparkException):
        compare.oracle.conf.get(key)
    with pytest.raises(PySparkException):
        s.conf.get(key)
    s.conf.set(key, "v")
    assert s.conf.get(key) == "v"
    assert s.conf.get(key, "fallback") == "v"


def test_conf_typed_values(new_session):
    s = new_session()
    s.conf.set("spark.e2e.bool", True)
    s.conf.set("spark.e2e.int", 42)
    assert s.conf.get("spark.e2e.bool") == "true"
    assert s.conf.get("spark.e2e.int") == "42"


def test_conf_get_all(new_session):
    s = new_session()
    s.conf.set("spark.e2e.getall", "yes")
    everything = s.conf.getAll
    assert isinstance(everything, dict)
    assert everything.get("spark.e2e.getall") == "yes"
    assert everything.get(KEY) == "4"


@pytest.mark.parametrize("key", [KEY, "spark.sql.ansi.enabled", "spark.sql.session.timeZone",
                                 "spark.executor.memory", "spark.master",
                                 "spark.e2e.not.a.real.key"])
def test_conf_is_modifiable(compare, new_session, key):
    with classic_mode():
        expected = compare.oracle.conf.isModifiable(key)
    assert new_session().conf.isModifiable(key) == expected


def test_conf_affects_queries(compare, new_session):
    s = new_session()
    s.conf.set("spark.sql.ansi.enabled", "false")
    assert s.sql("SELECT 1/0 AS x").collect()[0].x is None
    s.conf.set("spark.sql.ansi.enabled", "true")
    with pytest.raises(PySparkException):
        s.sql("SELECT 1/0 AS x").collect()


def test_stop_then_new_session_works(sparkless_server, new_session):
    s = connect_builder(sparkless_server.url).create()
    s.range(3).createOrReplaceTempView("e2e_before_stop")
    assert s.range(3).count() == 3
    s.stop()
    s2 = new_session()
    assert s2.range(4).count() == 4
    with pytest.raises(AnalysisException):
        s2.table("e2e_before_stop").collect()


def test_stop_does_not_affect_other_sessions(sparkless_server, spark):
    s = connect_builder(sparkless_server.url).create()
    spark.range(2).createOrReplaceTempView("e2e_survives_other_stop")
    s.stop()
    assert spark.table("e2e_survives_other_stop").count() == 2


def test_many_sessions_created_and_stopped(sparkless_server, spark):
    for _ in range(5):
        s = connect_builder(sparkless_server.url).create()
        assert s.range(10).count() == 10
        s.stop()
    assert spark.range(1).count() == 1


def test_spark_version(compare):
    ours = compare.spark.version
    assert isinstance(ours, str) and ours[0].isdigit()


def test_server_stdout_has_exactly_one_ready_line(sparkless_server):
    ready = [line for line in sparkless_server.stdout_lines if "listening on" in line]
    assert len(ready) == 1, sparkless_server.stdout_lines


# ------------------------------------------------------------------ auth and lifecycle

TOKEN = "e2e-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("token-server"), token=TOKEN)
    yield server
    code = server.stop()
    assert code is not None, "token server did not exit on SIGTERM"


def test_token_server_accepts_the_token(token_server):
    s = connect_builder(f"sc://localhost:{token_server.port}/;token={TOKEN}").create()
    try:
        assert s.range(5).count() == 5
        assert s.createDataFrame([(1, "a")], "x int, y string").collect()[0].y == "a"
    finally:
        s.stop()


@pytest.mark.parametrize("url", ["sc://localhost:{port}", "sc://127.0.0.1:{port}",
                                 "sc://localhost:{port}/;token=wrong-token"])
def test_token_server_refuses_without_the_right_token(token_server, url):
    s = connect_builder(url.format(port=token_server.port)).create()
    with pytest.raises(PySparkException) as ei:
        s.range(5).count()
    text = f"{type(ei.value).__name__}: {ei.value}".lower()
    assert "unauthenticated" in text or "token" in text or "auth" in text, text
    with pytest.raises(PySparkException):
        s.sql("SELECT 1").collect()


def test_token_from_environment(tmp_path):
    server = start_server(tmp_path, env={"SPARKLESS_AUTH_TOKEN": TOKEN})
    try:
        bad = connect_builder(f"sc://localhost:{server.port}").create()
        with pytest.raises(PySparkException):
            bad.range(1).count()
        good = connect_builder(f"sc://localhost:{server.port}/;token={TOKEN}").create()
        assert good.range(2).count() == 2
        good.stop()
    finally:
        assert server.stop() is not None


@pytest.mark.sparkless_only
def test_refuses_non_loopback_without_token(tmp_path):
    try:
        server = start_server(tmp_path, host="0.0.0.0", timeout=60)
    except RuntimeError as e:
        assert "did not print its ready line" in str(e)
        return
    server.stop()
    pytest.fail(f"server listened on 0.0.0.0 without a token ({server.url})")


def test_sigterm_stops_the_server(tmp_path):
    server = start_server(tmp_path)
    s = connect_builder(server.url).create()
    assert s.range(3).count() == 3
    code = server.stop()
    assert code is not None, "server did not exit within 30 s of SIGTERM"
    assert wait_port_closed(server.port), "port still open after the server exited"


def test_keepalive_pings_do_not_close_the_connection():
    """The stock client pings every 60 s with or without calls in flight; gRPC's server
    default answers the third such ping with GOAWAY "too_many_pings", dropping the
    connection (and a long query's stream with it). Here a channel pings every 1.5 s
    without calls: the connection must stay READY throughout."""
    import threading
    import time

    import grpc

    from sparkless.connect.server import SparkConnectServer

    server = SparkConnectServer(port=0)
    server.start()
    channel = grpc.insecure_channel(
        f"127.0.0.1:{server.port}",
        options=[
            ("grpc.keepalive_time_ms", 1500),
            ("grpc.keepalive_timeout_ms", 5000),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
        ],
    )
    states: list[grpc.ChannelConnectivity] = []
    lock = threading.Lock()

    def record(state: grpc.ChannelConnectivity) -> None:
        with lock:
            states.append(state)

    try:
        grpc.channel_ready_future(channel).result(timeout=10)
        channel.subscribe(record, try_to_connect=False)
        time.sleep(7)  # four pings, none with data or a call
        with lock:
            seen = list(states)
    finally:
        channel.close()
        server.stop(grace=1)
    assert seen and all(s == grpc.ChannelConnectivity.READY for s in seen), seen
