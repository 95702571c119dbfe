"""The role's policy documents, and the audit ``doctor`` runs over whatever a role has.

Least privilege means: object actions on ``bucket/prefix/*`` only, ``s3:ListBucket`` on the
bucket only when conditioned to the prefix, log streams of the function's own group, and
``"*"`` only for the few actions AWS offers no resource-level permission for
(``ENI_ACTIONS``, needed when the function runs in a VPC).
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

from sparkless.deploy.names import Target

OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
NEEDED_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
# Lambda's VPC networking; these accept no resource ARN, so AWS requires Resource "*".
ENI_ACTIONS = frozenset(
    {
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    }
)

ASSUME_ROLE_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def executor_policy(target: Target, account: str) -> dict[str, Any]:
    """The inline policy ``deploy`` puts on the role (same statements as the Terraform's)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ShuffleObjects",
                "Effect": "Allow",
                "Action": list(OBJECT_ACTIONS),
                "Resource": target.objects_arn(),
            },
            {
                "Sid": "ShuffleList",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": target.bucket_arn(),
                "Condition": {"StringLike": {"s3:prefix": [f"{target.prefix}/*"]}},
            },
            {
                "Sid": "OwnLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": target.log_group_arn(account) + ":*",
            },
        ],
    }


def canonical(doc: dict[str, Any] | str) -> str:
    """A policy in one comparable form (AWS returns documents re-serialised)."""
    if isinstance(doc, str):
        doc = json.loads(doc)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, arn: str) -> bool:
    """Whether an IAM resource pattern (``*`` and ``?`` wildcards) covers ``arn``."""
    return fnmatchcase(arn, pattern)


def audit(docs: dict[str, dict[str, Any]], target: Target) -> tuple[list[str], list[str]]:
    """(problems, grants) over named policy documents: problems in plain words; grants
    lists what the role may do on its prefix, so missing rights can be named too."""
    problems: list[str] = []
    granted: set[str] = set()
    probe = f"{target.bucket_arn()}/{target.prefix}/doctor-probe"
    for name, doc in docs.items():
        for st in _list(doc.get("Statement", [])):
            if st.get("Effect") != "Allow":
                continue
            where = f"policy {name!r}, statement {st.get('Sid') or '(no Sid)'}"
            actions = [str(a) for a in _list(st.get("Action", []))]
            if "NotAction" in st or "NotResource" in st:
                problems.append(f"{where} uses NotAction/NotResource (grants nearly everything)")
            resources = [str(r) for r in _list(st.get("Resource", []))]
            wild = [a for a in actions if a == "*" or a.endswith(":*")]
            if wild:
                problems.append(f"{where} allows every action of {', '.join(wild)}")
            if "*" in resources and not set(actions) <= ENI_ACTIONS:
                extra = sorted(set(actions) - ENI_ACTIONS)
                problems.append(f"{where} allows {', '.join(extra)} on every resource ('*')")
            for r in resources:
                if r.startswith("arn:") and ":s3:::" in r and not _own_s3(r, st, target):
                    problems.append(f"{where} reaches S3 beyond {target.store_uri}/: {r}")
            if any(_matches(r, probe) for r in resources):
                granted.update(actions)
    return problems, sorted(granted)


def _own_s3(resource: str, statement: dict[str, Any], target: Target) -> bool:
    """An S3 resource inside the prefix, or the bucket itself for a prefix-bound list."""
    own_prefix = f"{target.bucket_arn()}/{target.prefix}/"
    if resource.startswith(own_prefix):
        return True
    if resource == target.bucket_arn():
        cond = statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix")
        return bool(cond) and all(str(c).startswith(f"{target.prefix}/") for c in _list(cond))
    return False


def missing_rights(granted: list[str]) -> list[str]:
    """Object actions the function needs on its prefix but has not been given."""
    return [a for a in NEEDED_OBJECT_ACTIONS if a not in granted and "s3:*" not in granted]
