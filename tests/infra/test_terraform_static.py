"""What `terraform validate` would catch and more, without providers: the module parsed with
python-hcl2 and checked for declarations, references, least privilege and the settings
contract with the client (executors/aws_lambda/config.py, storage/s3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from executors.aws_lambda import config as lambda_config
from sparkless.deploy.names import Target, client_conf
from sparkless.deploy.policy import ENI_ACTIONS
from tests.infra.hcl import Module, load, refs, statements, unq

ROOT = Path(__file__).resolve().parents[2]
MODULE_DIR = ROOT / "infra/terraform/modules/sparkless"
EXAMPLE_DIR = ROOT / "infra/terraform/examples/basic"
# Resource references an identity policy may name: the module's own bucket, log group, and
# locals built from them; statement.value is the KMS key the user handed in.
OWN_RESOURCES = {
    ("aws_s3_bucket", "shuffle"),
    ("aws_cloudwatch_log_group", "executor"),
    ("local", "shuffle_objects_arn"),
    ("statement", "value"),
}


@pytest.fixture(scope="module")
def module() -> Module:
    return load(MODULE_DIR)


@pytest.fixture(scope="module")
def example() -> Module:
    return load(EXAMPLE_DIR)


@pytest.mark.parametrize("where", ["module", "example"])
def test_every_variable_is_typed_and_described(where: str, request: pytest.FixtureRequest) -> None:
    mod: Module = request.getfixturevalue(where)
    assert mod.variables, f"no variables parsed in {mod.path}"
    for name, body in mod.variables.items():
        assert body.get("type"), f"variable {name} in {mod.path} has no type"
        assert len(unq(body.get("description", ""))) > 10, f"variable {name} is not described"


def test_every_reference_resolves(module: Module) -> None:
    bodies = [
        *module.variables.values(),
        *module.locals.values(),
        *module.outputs.values(),
        *module.resources.values(),
        *module.data.values(),
    ]
    unknown = {r for body in bodies for r in refs(body) if not module.declares(*r)}
    unknown -= {("aws_region", "current")}  # only as data.aws_region.current
    assert not {r for r in unknown if r[0] != "statement"}, f"undeclared: {sorted(unknown)}"


def test_every_variable_is_used(module: Module) -> None:
    used = {
        name
        for body in [
            *module.locals.values(),
            *module.resources.values(),
            *module.data.values(),
            *module.outputs.values(),
            *module.variables.values(),
        ]
        for kind, name in refs(body)
        if kind == "var"
    }
    assert set(module.variables) <= used, f"unused: {sorted(set(module.variables) - used)}"


def test_outputs_are_described_and_resolve(module: Module, example: Module) -> None:
    for mod in (module, example):
        for name, body in mod.outputs.items():
            assert unq(body.get("description", "")), f"output {name} has no description"
            assert "value" in body, f"output {name} has no value"
            missing = [r for r in refs(body["value"]) if not mod.declares(*r)]
            assert not missing, f"output {name} in {mod.path} references {missing}"


def test_example_passes_only_declared_variables(module: Module, example: Module) -> None:
    call = example.modules["sparkless"]
    assert (EXAMPLE_DIR / unq(call["source"])).resolve() == MODULE_DIR
    passed = {k for k in call if k not in ("source", "__is_block__")}
    assert passed <= set(module.variables), sorted(passed - set(module.variables))


def test_spark_conf_output_is_the_client_contract(module: Module) -> None:
    """The keys are the ones the Lambda platform reads, and the same as `sparkless deploy`'s."""
    keys = {unq(k) for k in module.locals["spark_conf"] if not k.startswith("__")}
    platform_keys = {
        lambda_config.FUNCTION,
        lambda_config.REGION,
        lambda_config.MEMORY,
        lambda_config.TIMEOUT,
        "spark.sparkless.platform",
        "spark.sparkless.store",
    }
    assert keys == platform_keys
    boto3_path = client_conf(Target(region="eu-west-1", bucket="some-bucket"), 2048, 300)
    assert set(boto3_path) == keys
    assert unq(module.locals["spark_conf"]['"spark.sparkless.platform"']) == "lambda"
    store = module.locals["store_uri"]
    assert store.startswith('"s3://') and "aws_s3_bucket.shuffle.id" in store


def _policy_documents(module: Module) -> dict[str, dict]:
    return {n: b for (t, n), b in module.data.items() if t == "aws_iam_policy_document"}


def test_identity_policy_names_only_the_modules_resources(module: Module) -> None:
    doc = _policy_documents(module)["executor"]
    for st in statements(doc):
        actions = {unq(a) for a in st["actions"]}
        resources = [unq(r) for r in st["resources"]]
        assert unq(st.get("effect", '"Allow"')) == "Allow"
        assert not any(a == "*" or a.endswith(":*") for a in actions), actions
        for r in resources:
            if r == "*":
                assert actions <= ENI_ACTIONS, f"'*' resource for {sorted(actions - ENI_ACTIONS)}"
                continue
            named = refs(r)
            assert named and named <= OWN_RESOURCES, f"{unq(st['sid'])} names {r}"


def test_eni_rights_only_in_a_vpc(module: Module) -> None:
    doc = _policy_documents(module)["executor"]
    eni = [d for d in doc["dynamic"] if "VpcNetworkInterfaces" in str(d)]
    assert eni and "local.in_vpc" in str(eni[0]['"statement"']["for_each"])
    assert module.locals["in_vpc"] == "${var.enable_redis}"
    fn = module.resources[("aws_lambda_function", "executor")]
    vpc = [d for d in fn["dynamic"] if '"vpc_config"' in d][0]['"vpc_config"']
    assert "local.in_vpc" in vpc["for_each"]


def test_list_bucket_is_bound_to_the_prefix(module: Module) -> None:
    doc = _policy_documents(module)["executor"]
    (listing,) = [st for st in statements(doc) if '"s3:ListBucket"' in st["actions"]]
    (cond,) = listing["condition"]
    assert unq(cond["variable"]) == "s3:prefix"
    assert all("var.shuffle_prefix" in v for v in cond["values"])
    assert "var.shuffle_prefix" in module.locals["shuffle_objects_arn"]


def test_resource_policies_grant_only_services(module: Module) -> None:
    """Bucket and ECR policies: Allow only to a service principal, anyone else only Deny."""
    for name, doc in _policy_documents(module).items():
        for st in statements(doc):
            for p in st.get("principals", []):
                ids = {unq(i) for i in p["identifiers"]}
                if unq(st.get("effect", '"Allow"')) == "Allow":
                    assert unq(p["type"]) == "Service" and "*" not in ids, (name, st)


def test_bucket_is_hardened(module: Module) -> None:
    r = module.resources
    pab = r[("aws_s3_bucket_public_access_block", "shuffle")]
    for key in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert pab[key] is True, key
    sse = r[("aws_s3_bucket_server_side_encryption_configuration", "shuffle")]
    assert sse["rule"][0]["apply_server_side_encryption_by_default"]
    own = r[("aws_s3_bucket_ownership_controls", "shuffle")]
    assert unq(own["rule"][0]["object_ownership"]) == "BucketOwnerEnforced"
    rule = r[("aws_s3_bucket_lifecycle_configuration", "shuffle")]["rule"][0]
    assert "var.shuffle_prefix" in rule["filter"][0]["prefix"]
    assert rule["expiration"][0]["days"] == "${var.shuffle_expiration_days}"


def test_redis_is_private_tls_and_auth(module: Module) -> None:
    r = module.resources
    group = r[("aws_elasticache_replication_group", "redis")]
    assert group["transit_encryption_enabled"] is True
    assert group["at_rest_encryption_enabled"] is True
    assert "local.redis_auth_token" in group["auth_token"]
    ingress = [b for (t, _), b in r.items() if t == "aws_vpc_security_group_ingress_rule"]
    assert len(ingress) == 1, "the Redis group admits one source: the function's group"
    assert "aws_security_group.lambda" in ingress[0]["referenced_security_group_id"]
    assert not any(k.startswith("cidr") for k in ingress[0])
