# The sparkless executor on AWS: one container-image Lambda function, its shuffle bucket,
# its role and log group, and optionally an ElastiCache group. Everything a client needs
# comes out as spark.sparkless.* settings (outputs.tf).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # `name` replaced `id` as the region attribute in provider 6; `id` still works in 5 and 6.
  region = data.aws_region.current.id

  in_vpc = var.enable_redis

  image_uri = coalesce(var.image_uri, "${try(aws_ecr_repository.executor[0].repository_url, "")}:${var.image_tag}")

  # Lambda writes to a group of this name unless told otherwise; we create it ourselves so
  # that retention is set and the role needs no logs:CreateLogGroup.
  log_group_name = "/aws/lambda/${var.name}"

  # Clients invoke the alias when provisioned concurrency is on (it attaches to a version).
  alias_name      = "live"
  client_function = var.provisioned_concurrency > 0 ? "${var.name}:${local.alias_name}" : var.name

  shuffle_objects_arn = "${aws_s3_bucket.shuffle.arn}/${var.shuffle_prefix}/*"

  tags = merge({ "sparkless:component" = "executor" }, var.tags)
}
