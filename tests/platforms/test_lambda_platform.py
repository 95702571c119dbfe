"""The Lambda platform through boto3, exactly as against AWS, but the endpoint is ours.

Each test starts ``python -m executors.lambda_endpoint`` on a free 127.0.0.1 port (it runs
the real entry point, ``executors.aws_lambda.entry.handler``, in warm sandboxes) and points
boto3 at it with fake credentials. Nothing here is mocked; no traffic leaves 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from executors.aws_lambda.config import SYNC_PAYLOAD_LIMIT
from executors.aws_lambda.platform import FunctionFailed, LambdaPlatform
from executors.platforms import open_platform
from shuffle.arrow_io import ipc_to_table
from storage import open_store

REPO = Path(__file__).resolve().parents[2]
FUNCTION = "sparkless-executor"
READY_TIMEOUT_S = 120.0
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",  # never look for instance credentials
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@pytest.fixture(scope="module", autouse=True)
def fake_aws() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for key, value in FAKE_AWS_ENV.items():
            mp.setenv(key, value)
        mp.delenv("AWS_PROFILE", raising=False)
        yield


@contextlib.contextmanager
def lambda_endpoint(log: Path, **options: Any) -> Iterator[str]:
    """A running endpoint subprocess; yields its URL, stops it (and its sandboxes) after."""
    args = [sys.executable, "-m", "executors.lambda_endpoint", "--host", "127.0.0.1"]
    settings = {"port": 0, "function": FUNCTION, "timeout": 60, "memory": 2048, "concurrency": 4}
    for key, value in {**settings, **options}.items():
        args += [f"--{key}", str(value)]
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            args, cwd=REPO, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True
        )
    try:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(READY_TIMEOUT_S)
        if not line or "listening on http://127.0.0.1:" not in line[0]:
            raise RuntimeError(f"endpoint did not start: {line!r}\n{log.read_text()}")
        yield line[0].split("listening on ", 1)[1].split()[0]
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert proc.returncode == 0, log.read_text()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with lambda_endpoint(tmp_path_factory.mktemp("endpoint") / "endpoint.log") as url:
        yield url


def platform_for(url: str, **conf: str) -> LambdaPlatform:
    settings = {
        "spark.sparkless.platform": "lambda",
        "spark.sparkless.lambda.endpoint": url,
        "spark.sparkless.lambda.function": FUNCTION,
        "spark.sparkless.lambda.region": "us-east-1",
        **conf,
    }
    platform = open_platform(conf=settings)
    assert isinstance(platform, LambdaPlatform)
    return platform


@pytest.fixture()
def store_uri(tmp_path: Path) -> str:
    return f"file://{tmp_path / 'store'}"


def task(store: str, sql: str, partition: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "job_id": "j-lambda",
        "stage_id": 0,
        "partition": partition,
        "attempt": 0,
        "store": store,
        "sql": sql,
        "inputs": [],
        "output": {"kind": "result"},
        "conf": {},
        **extra,
    }


def result_rows(store: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    assert result["status"] == "ok", result
    return ipc_to_table(open_store(store).get(result["output"]["key"])).to_pylist()


# -- the endpoint speaks the Lambda API ------------------------------------------------------


def test_endpoint_answers_boto3_like_lambda(endpoint: str, store_uri: str) -> None:
    client = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")
    config = client.get_function_configuration(FunctionName=FUNCTION)
    assert (config["Timeout"], config["MemorySize"]) == (60, 2048)
    assert client.get_function(FunctionName=config["FunctionArn"])["Concurrency"] == {
        "ReservedConcurrentExecutions": 4
    }
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="no-such-function")
    assert client.invoke(FunctionName=FUNCTION, InvocationType="DryRun")["StatusCode"] == 204

    # an unhandled crash (the wrapper cannot read its event) is a function error
    response = client.invoke(
        FunctionName=FUNCTION, Payload=json.dumps({"event_ref": "missing", "store": store_uri})
    )
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert response["ExecutedVersion"] == "$LATEST"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "BlockNotFound"
    assert "missing" in error["errorMessage"] and error["stackTrace"]

    # a request over the 6 MB synchronous limit is refused before anything runs
    with pytest.raises(ClientError) as too_large:
        client.invoke(FunctionName=FUNCTION, Payload=b" " * (SYNC_PAYLOAD_LIMIT + 1))
    assert too_large.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert too_large.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


# -- the platform ----------------------------------------------------------------------------


def test_task_round_trip(endpoint: str, store_uri: str) -> None:
    with platform_for(endpoint) as platform:
        assert platform.max_workers == 4  # the function's reserved concurrency
        futures = [
            platform.invoke(task(store_uri, f"SELECT {i} AS p, 'x' || {i} AS s", partition=i))
            for i in range(6)
        ]
        rows = [result_rows(store_uri, f.result()) for f in futures]
        stats = platform.stats()
    assert rows == [[{"p": i, "s": f"x{i}"}] for i in range(6)]
    assert stats["invocations"] == stats["completed"] == 6
    assert stats["function_errors"] == 0
    assert stats["memory_mb"] == 2048
    assert stats["billed_ms"] >= 6  # from the REPORT line: at least 1 ms each
    assert stats["gb_seconds"] == pytest.approx(stats["billed_ms"] / 1000 * 2)


def test_task_error_is_a_normal_response(endpoint: str, store_uri: str) -> None:
    with platform_for(endpoint) as platform:
        result = platform.invoke(task(store_uri, "SELEC nonsense FROM nowhere")).result()
        stats = platform.stats()
    assert result["status"] == "error"
    assert "syntax error" in result["error"]["message"].lower()
    assert stats["function_errors"] == 0 and stats["completed"] == 1


def test_unhandled_crash_is_a_failed_attempt(endpoint: str, store_uri: str) -> None:
    with platform_for(endpoint) as platform:
        future = platform.invoke({"event_ref": "j/missing-event.json", "store": store_uri})
        with pytest.raises(
            FunctionFailed, match=r"Lambda function error BlockNotFound \(Unhandled\)"
        ):
            future.result()
        assert platform.stats()["function_errors"] == 1


def test_timeout_is_a_failed_attempt(tmp_path: Path, store_uri: str) -> None:
    with lambda_endpoint(tmp_path / "endpoint.log", timeout=1, concurrency=1) as url:
        with platform_for(url) as platform:
            # billions of hashes on one thread: far beyond the function's 1 s timeout
            slow = task(store_uri, "SELECT sum(hash(range)) AS h FROM range(5000000000)")
            with pytest.raises(FunctionFailed, match="Sandbox.Timedout.*timed out after 1.00 s"):
                platform.invoke(slow).result()
            # the killed sandbox is replaced: the next task runs
            fast = platform.invoke(task(store_uri, "SELECT 7 AS x", partition=1)).result()
            stats = platform.stats()
    assert result_rows(store_uri, fast) == [{"x": 7}]
    assert stats["timeouts"] == 1
    assert stats["billed_ms"] >= 1000


def test_throttled_invocations_are_retried(tmp_path: Path, store_uri: str) -> None:
    with lambda_endpoint(tmp_path / "endpoint.log", concurrency=1) as url:
        with platform_for(url, **{"spark.sparkless.maxConcurrency": "6"}) as platform:
            sql = "SELECT {i} AS p, sum(range % 7) AS s FROM range(3000000)"
            futures = [
                platform.invoke(task(store_uri, sql.format(i=i), partition=i)) for i in range(6)
            ]
            rows = [result_rows(store_uri, f.result()) for f in futures]
            stats = platform.stats()
    expected = sum(i % 7 for i in range(3_000_000))
    assert rows == [[{"p": i, "s": expected}] for i in range(6)]
    assert stats["throttles"] > 0
    assert stats["retries"] + stats["sdk_retries"] >= stats["throttles"]
    assert stats["completed"] == 6


def test_large_event_goes_by_reference(endpoint: str, store_uri: str) -> None:
    padding = "x" * (SYNC_PAYLOAD_LIMIT + 1024)  # a conf value nobody reads, just bulk
    event = task(store_uri, "SELECT 42 AS answer", conf={"spark.test.padding": padding})
    with platform_for(endpoint) as platform:
        result = platform.invoke(event).result()
        stats = platform.stats()
    assert result_rows(store_uri, result) == [{"answer": 42}]
    assert stats["events_by_reference"] == 1
    # Near the payload limit the call is asynchronous; completion comes through the store.
    assert stats["async_invocations"] == 1


def test_large_result_comes_back_by_reference(endpoint: str, store_uri: str) -> None:
    # a map task with a million reduce partitions: its MapStatus alone is over 6 MB of JSON
    n = 1_000_000
    event = task(store_uri, "SELECT range AS k FROM range(10)")
    event["output"] = {
        "kind": "shuffle",
        "shuffle_id": 0,
        "map_id": 0,
        "num_partitions": n,
        "partitioning": {"kind": "hash", "keys": ["k"]},
    }
    with platform_for(endpoint) as platform:
        result = platform.invoke(event).result()
        stats = platform.stats()
    assert result["status"] == "ok", result
    assert len(result["output"]["partition_lengths"]) == n
    assert result["output"]["rows"] == 10
    assert stats["results_by_reference"] == 1


# -- a whole job through Spark Connect -------------------------------------------------------


def test_spark_job_runs_on_lambda(endpoint: str, tmp_path: Path) -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from sparkless.connect.server import SparkConnectServer

    server = SparkConnectServer(
        port=0,
        conf={
            "spark.sql.shuffle.partitions": "4",
            "spark.sparkless.platform": "lambda",
            "spark.sparkless.lambda.endpoint": endpoint,
            "spark.sparkless.lambda.function": FUNCTION,
            "spark.sparkless.lambda.region": "us-east-1",
        },
        store=f"file://{tmp_path / 'store'}",
    )
    port = server.start()
    try:
        spark = SparkSession.builder.remote(f"sc://127.0.0.1:{port}").create()
        try:
            orders = [(i, i % 13, (i * 37) % 101) for i in range(2000)]
            customers = [(c, f"region-{c % 3}") for c in range(13)]
            o = spark.createDataFrame(orders, "id long, cust long, amount long")
            c = spark.createDataFrame(customers, "cust long, region string")
            rows = (
                o.join(c, "cust")
                .groupBy("region")
                .agg(F.sum("amount").alias("total"), F.count("*").alias("n"))
                .orderBy(F.desc("total"))
                .collect()
            )
        finally:
            spark.stop()
        stats = server.engine.platform.stats()
    finally:
        server.stop(grace=1)
    region = dict(customers)
    totals: dict[str, list[int]] = {}
    for _, cust, amount in orders:
        acc = totals.setdefault(region[cust], [0, 0])
        acc[0] += amount
        acc[1] += 1
    expected = sorted(((r, t, n) for r, (t, n) in totals.items()), key=lambda x: -x[1])
    assert [(r.region, r.total, r.n) for r in rows] == expected
    assert stats["completed"] > 0 and stats["function_errors"] == 0


def test_concurrency_gate_backs_off_and_recovers() -> None:
    from executors.aws_lambda.gate import ConcurrencyGate

    gate = ConcurrencyGate(8)
    for _ in range(8):
        assert gate.acquire()
    gate.throttled()  # half of the 8 in flight
    assert int(gate.limit) == 4
    for _ in range(8):
        gate.release()
    closed = threading.Event()
    for _ in range(4):
        assert gate.acquire(closed)
    closed.set()
    assert not gate.acquire(closed)  # at the limit: waits, and gives up once closed
    for _ in range(4):
        gate.release()
    for _ in range(100):
        gate.succeeded()
    assert gate.limit == 8
