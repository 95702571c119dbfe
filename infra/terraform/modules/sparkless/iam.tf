# The function's execution role. Least privilege: objects under its own bucket prefix,
# streams in its own log group, and the VPC ENI actions only when it runs in a VPC.

data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "executor" {
  name               = "${var.name}-role"
  description        = "sparkless executor ${var.name}: its shuffle prefix and its log group only"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "executor" {
  statement {
    sid    = "ShuffleObjects"
    effect = "Allow"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = [local.shuffle_objects_arn]
  }

  # ListBucket is a bucket-level action: the prefix is enforced by the condition.
  statement {
    sid       = "ShuffleList"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.shuffle.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.shuffle_prefix}/*"]
    }
  }

  statement {
    sid       = "OwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.executor.arn}:*"]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "BucketKey"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
    }
  }

  # The ENI actions do not support resource-level permissions: AWS requires "*" here
  # (the same as the managed AWSLambdaVPCAccessExecutionRole).
  dynamic "statement" {
    for_each = local.in_vpc ? [1] : []
    content {
      sid    = "VpcNetworkInterfaces"
      effect = "Allow"
      actions = [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "executor" {
  name   = "${var.name}-shuffle"
  role   = aws_iam_role.executor.id
  policy = data.aws_iam_policy_document.executor.json
}
