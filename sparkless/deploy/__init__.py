"""``sparkless deploy`` and ``sparkless doctor``: the boto3 path for users without Terraform.

``deploy`` creates or updates, idempotently, what ``infra/terraform/modules/sparkless``
creates for the S3 store: the shuffle bucket (encrypted, private, expiring its prefix),
the function's role with a least-privilege inline policy, its log group, and the Lambda
function from a container image; then prints the ``spark.sparkless.*`` settings a client
needs. ``doctor`` checks such a deployment and says what is wrong in plain words.

Nothing here imports boto3 until a command runs, so ``sparkless --help`` stays instant.
"""

from __future__ import annotations

import argparse


def deploy_main(args: argparse.Namespace) -> int:
    from sparkless.deploy.deploy import main

    return main(args)


def doctor_main(args: argparse.Namespace) -> int:
    from sparkless.deploy.doctor import main

    return main(args)
