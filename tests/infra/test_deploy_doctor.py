"""`sparkless deploy` and `sparkless doctor` end to end against moto's server on 127.0.0.1.

What moto (5.2) does here without Docker: S3 (and it evaluates bucket policies), IAM, STS,
CloudWatch Logs, Lambda create/update/get of an image function (it does not check that the
image exists). What it cannot: run an image function — even a DryRun invocation runs it,
and without Docker that is an HTTP 500. doctor must say so; a second server uses moto's
docker-less Lambda (invocations succeed without running anything) for the healthy case.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from sparkless.cli import main
from sparkless.deploy.names import Target
from sparkless.deploy.policy import executor_policy
from tests.infra.moto_server import aws_env, moto_server
from tests.stores.redis_server import RedisServer

REGION = "eu-west-1"
BUCKET = "sparkless-test-shuffle"
FUNCTION = "sparkless-exec-test"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sparkless:v1"


def args(endpoint: str, *extra: str) -> list[str]:
    return [
        "--region",
        REGION,
        "--bucket",
        BUCKET,
        "--prefix",
        "jobs/shuffle",
        "--function-name",
        FUNCTION,
        "--endpoint-url",
        endpoint,
        *extra,
    ]


def run(
    capsys: pytest.CaptureFixture[str], command: str, endpoint: str, *extra: str
) -> tuple[int, str]:
    code = main([command, *args(endpoint, *extra)])
    out = capsys.readouterr()
    return code, out.out + out.err


def clients(endpoint: str) -> dict[str, object]:
    return {
        s: boto3.client(s, region_name=REGION, endpoint_url=endpoint)
        for s in ("s3", "iam", "lambda", "logs")
    }


@pytest.fixture
def moto() -> Iterator[str]:
    with aws_env(), moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def moto_no_docker() -> Iterator[str]:
    with aws_env(), moto_server(lambda_docker=False) as endpoint:
        yield endpoint


def test_dry_run_plans_and_changes_nothing(moto: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "deploy", moto, "--image-uri", IMAGE, "--dry-run")
    assert code == 0, out
    assert "dry run: nothing was changed" in out
    assert f"+ create    bucket {BUCKET}" in out and f"+ create    function {FUNCTION}" in out
    c = clients(moto)
    assert c["s3"].list_buckets()["Buckets"] == []
    assert c["iam"].list_roles()["Roles"] == []
    assert c["lambda"].list_functions()["Functions"] == []
    assert c["logs"].describe_log_groups()["logGroups"] == []


def test_deploy_is_idempotent_and_prints_client_settings(
    moto: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, first = run(capsys, "deploy", moto, "--image-uri", IMAGE, "--memory", "3008")
    assert code == 0, first
    assert "done; 10 change(s)" in first
    # the TLS-only bucket policy would deny every request through plain http://
    assert "- skip      bucket" in first and "plain http://" in first

    code, second = run(capsys, "deploy", moto, "--image-uri", IMAGE, "--memory", "3008")
    assert code == 0, second
    assert "done; 0 change(s)" in second
    assert "+ create" not in second and "~ update" not in second

    settings = json.loads(second[second.index("{") :])
    assert settings == {
        "spark.sparkless.platform": "lambda",
        "spark.sparkless.lambda.function": FUNCTION,
        "spark.sparkless.lambda.region": REGION,
        "spark.sparkless.lambda.memory": "3008",
        "spark.sparkless.lambda.timeout": "300",
        "spark.sparkless.lambda.endpoint": moto,
        "spark.sparkless.s3.endpoint": moto,
        "spark.sparkless.store": f"s3://{BUCKET}/jobs/shuffle",
    }
    assert f"--conf spark.sparkless.store=s3://{BUCKET}/jobs/shuffle" in second

    c = clients(moto)
    s3 = c["s3"]
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"][
        "RestrictPublicBuckets"
    ]
    assert s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rule["Filter"] == {"Prefix": "jobs/shuffle/"} and rule["Expiration"] == {"Days": 3}
    target = Target(REGION, BUCKET, "jobs/shuffle", FUNCTION, moto)
    doc = c["iam"].get_role_policy(RoleName=f"{FUNCTION}-role", PolicyName=f"{FUNCTION}-shuffle")
    assert doc["PolicyDocument"] == executor_policy(target, "123456789012")
    fn = c["lambda"].get_function(FunctionName=FUNCTION)
    assert fn["Configuration"]["PackageType"] == "Image"
    assert fn["Configuration"]["MemorySize"] == 3008
    assert fn["Code"]["ImageUri"] == IMAGE
    (group,) = c["logs"].describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{FUNCTION}")[
        "logGroups"
    ]
    assert group["retentionInDays"] == 14

    new_image = IMAGE.replace(":v1", ":v2")
    code, third = run(
        capsys, "deploy", moto, "--image-uri", new_image, "--timeout", "600", "--memory", "3008"
    )
    assert code == 0, third
    assert "done; 2 change(s)" in third
    assert "Timeout 300 -> 600" in third and f"{IMAGE} -> {new_image}" in third
    fn = c["lambda"].get_function(FunctionName=FUNCTION)
    assert fn["Code"]["ImageUri"] == new_image and fn["Configuration"]["Timeout"] == 600


def test_deploy_needs_an_image_to_create_the_function(
    moto: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "deploy", moto)
    assert code == 1
    assert f"function {FUNCTION} does not exist yet: give --image-uri" in out


def test_doctor_says_moto_cannot_run_an_image_function(
    moto: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy", moto, "--image-uri", IMAGE)[0] == 0
    code, out = run(capsys, "doctor", moto)
    assert code == 1, out
    fails = [line for line in out.splitlines() if line.startswith("[FAIL]")]
    assert len(fails) == 1 and "DryRun invocation" in fails[0] and "HTTP 500" in fails[0]
    assert "needs a Docker engine" in out
    assert f"[ok  ] function {FUNCTION} exists (Image, 2048 MB, 300 s" in out
    assert "write, read and delete under jobs/shuffle/ work" in out
    assert f"reaches only s3://{BUCKET}/jobs/shuffle/" in out


def test_doctor_healthy_with_redis(moto_no_docker: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "deploy", moto_no_docker, "--image-uri", IMAGE)[0] == 0
    with RedisServer(password="s3cret-token") as redis_server:
        code, out = run(capsys, "doctor", moto_no_docker, "--redis", redis_server.uri)
        assert code == 0, out
        assert f"function {FUNCTION} is invokable (DryRun -> 204)" in out
        assert "answers PING" in out and "s3cret" not in out
        assert "0 failed, 0 warnings; healthy" in out

        wrong = redis_server.uri.replace("s3cret-token", "wrong-token")
        code, out = run(capsys, "doctor", moto_no_docker, "--redis", wrong)
        assert code == 1 and "refused the password" in out and "wrong-token" not in out


def test_doctor_names_what_is_broken(
    moto_no_docker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = moto_no_docker
    assert run(capsys, "deploy", endpoint, "--image-uri", IMAGE)[0] == 0
    c = clients(endpoint)
    iam, role, policy = c["iam"], f"{FUNCTION}-role", f"{FUNCTION}-shuffle"

    # the role loses its inline policy: the function could not touch its prefix
    iam.delete_role_policy(RoleName=role, PolicyName=policy)
    code, out = run(capsys, "doctor", endpoint)
    assert code == 1
    assert (
        f"role {role} may not s3:GetObject, s3:PutObject, s3:DeleteObject under s3://{BUCKET}/jobs/shuffle/"
        in out
    )

    # the role is widened to every bucket: flagged, with the least-privilege fix
    wide = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Wide",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": "*",
            }
        ],
    }
    iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(wide))
    code, out = run(capsys, "doctor", endpoint)
    assert code == 1
    assert (
        "statement Wide allows s3:DeleteObject, s3:GetObject, s3:PutObject on every resource ('*')"
        in out
    )
    assert f"narrow it to s3://{BUCKET}/jobs/shuffle/*" in out

    # deploy repairs it
    code, out = run(capsys, "deploy", endpoint)
    assert code == 0 and "~ update    role" in out
    assert run(capsys, "doctor", endpoint)[0] == 0

    # a TLS-only bucket policy reached over plain http denies the round trip
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    c["s3"].put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(deny))
    code, out = run(capsys, "doctor", endpoint)
    assert code == 1
    assert "access denied to write" in out and "denies requests without TLS" in out
    c["s3"].delete_bucket_policy(Bucket=BUCKET)

    # the bucket is gone
    c["s3"].delete_bucket(Bucket=BUCKET)
    code, out = run(capsys, "doctor", endpoint)
    assert code == 1 and f"[FAIL] bucket {BUCKET} does not exist" in out

    # the function is gone
    c["lambda"].delete_function(FunctionName=FUNCTION)
    code, out = run(capsys, "doctor", endpoint)
    assert code == 1 and f"[FAIL] function {FUNCTION} does not exist in {REGION}" in out
    assert "with --image-uri to create it" in out
