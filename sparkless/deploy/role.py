"""The function's execution role and its one inline policy (``policy.executor_policy``)."""

from __future__ import annotations

import json
from typing import Any

from sparkless.deploy.aws import error_code
from sparkless.deploy.names import Target
from sparkless.deploy.plan import Plan
from sparkless.deploy.policy import ASSUME_ROLE_POLICY, canonical, executor_policy


def _lambda_may_assume(doc: Any) -> bool:
    """A trust policy that lets the Lambda service assume the role (conditions allowed)."""
    doc = json.loads(doc) if isinstance(doc, str) else doc
    for st in doc.get("Statement", []):
        services = st.get("Principal", {}).get("Service", [])
        services = services if isinstance(services, list) else [services]
        if st.get("Effect") == "Allow" and "lambda.amazonaws.com" in services:
            return True
    return False


def ensure_role(plan: Plan, target: Target, iam: Any, account: str) -> str:
    """Create or fix the role and its inline policy; returns the role's ARN."""
    name = target.role_name
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except Exception as e:
        if error_code(e) != "NoSuchEntity":
            raise
        role = None
    trust = json.dumps(ASSUME_ROLE_POLICY)
    if role is None:
        plan.do(
            "create",
            f"role {name}",
            "assumable by lambda.amazonaws.com",
            lambda: iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=trust,
                Description=f"sparkless executor {target.function}: its shuffle prefix and log group only",
                Tags=[{"Key": "sparkless:component", "Value": "executor"}],
            ),
        )
        arn = f"arn:{target.partition}:iam::{account}:role/{name}"
    else:
        arn = role["Arn"]
        if _lambda_may_assume(role["AssumeRolePolicyDocument"]):
            plan.unchanged(f"role {name}", "assumable by lambda.amazonaws.com")
        else:
            plan.do(
                "update",
                f"role {name} trust policy",
                "let lambda.amazonaws.com assume it",
                lambda: iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust),
            )

    wanted = executor_policy(target, account)
    current = None
    if role is not None:
        try:
            current = iam.get_role_policy(RoleName=name, PolicyName=target.policy_name)
        except Exception as e:
            if error_code(e) != "NoSuchEntity":
                raise
    what = f"role {name} policy {target.policy_name}"
    detail = f"objects under {target.store_uri}/, its log group"
    if current and canonical(current["PolicyDocument"]) == canonical(wanted):
        plan.unchanged(what, detail)
    else:
        text = json.dumps(wanted)
        plan.do(
            "update" if current else "create",
            what,
            detail,
            lambda: iam.put_role_policy(
                RoleName=name, PolicyName=target.policy_name, PolicyDocument=text
            ),
        )
    return arn
