# The executor: infra/lambda/Dockerfile's image, whose CMD is
# executors.aws_lambda.entry.handler. In a VPC only when it must reach ElastiCache:
# a VPC adds ENI setup and needs a route to S3.

resource "aws_lambda_function" "executor" {
  function_name = var.name
  description   = "sparkless executor: runs one task attempt per invocation"
  role          = aws_iam_role.executor.arn
  package_type  = "Image"
  image_uri     = local.image_uri
  architectures = [var.architecture]

  memory_size                    = var.memory_mb
  timeout                        = var.timeout_s
  reserved_concurrent_executions = var.reserved_concurrency
  publish                        = var.provisioned_concurrency > 0

  ephemeral_storage {
    size = var.ephemeral_storage_mb
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.executor.name
  }

  dynamic "environment" {
    for_each = length(var.environment) > 0 ? [var.environment] : []
    content {
      variables = environment.value
    }
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = [aws_security_group.lambda[0].id]
    }
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = var.image_uri != null || var.create_ecr_repository
      error_message = "Give image_uri, or leave create_ecr_repository on so that the module's repository provides it."
    }
  }

  # The role's policy must exist before the first invocation can write logs or blocks.
  depends_on = [aws_iam_role_policy.executor]
}

resource "aws_lambda_alias" "live" {
  count = var.provisioned_concurrency > 0 ? 1 : 0

  name             = local.alias_name
  description      = "the version clients invoke; provisioned concurrency attaches here"
  function_name    = aws_lambda_function.executor.function_name
  function_version = aws_lambda_function.executor.version
}

resource "aws_lambda_provisioned_concurrency_config" "live" {
  count = var.provisioned_concurrency > 0 ? 1 : 0

  function_name                     = aws_lambda_function.executor.function_name
  qualifier                         = aws_lambda_alias.live[0].name
  provisioned_concurrent_executions = var.provisioned_concurrency

  lifecycle {
    precondition {
      condition     = var.reserved_concurrency == -1 || var.provisioned_concurrency <= var.reserved_concurrency
      error_message = "provisioned_concurrency cannot exceed reserved_concurrency."
    }
  }
}
