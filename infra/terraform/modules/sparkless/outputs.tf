# What a client needs is spark_conf: pass it as --conf k=v (spark_submit_args) or to the
# session builder. Everything else is for operators (pushing the image, dashboards).

locals {
  store_uri = "s3://${aws_s3_bucket.shuffle.id}/${var.shuffle_prefix}"

  spark_conf = {
    "spark.sparkless.platform"        = "lambda"
    "spark.sparkless.lambda.function" = local.client_function
    "spark.sparkless.lambda.region"   = local.region
    "spark.sparkless.lambda.memory"   = tostring(var.memory_mb)
    "spark.sparkless.lambda.timeout"  = tostring(var.timeout_s)
    "spark.sparkless.store"           = local.store_uri
  }

  redis_store_uri = var.enable_redis ? format(
    "rediss://:%s@%s:%d/0",
    urlencode(local.redis_auth_token),
    try(aws_elasticache_replication_group.redis[0].primary_endpoint_address, ""),
    6379,
  ) : null
}

output "spark_conf" {
  description = "The spark.sparkless.* settings a client needs, with the S3 store."
  value       = local.spark_conf
}

output "spark_submit_args" {
  description = "spark_conf as command-line arguments: --conf key=value ..."
  value       = flatten([for k, v in local.spark_conf : ["--conf", "${k}=${v}"]])
}

output "spark_conf_redis" {
  description = "spark_conf with the ElastiCache store instead of S3 (sensitive: the store URI holds the AUTH token). Null unless enable_redis."
  value       = var.enable_redis ? merge(local.spark_conf, { "spark.sparkless.store" = local.redis_store_uri }) : null
  sensitive   = true
}

output "function_name" {
  description = "Name of the executor function."
  value       = aws_lambda_function.executor.function_name
}

output "function_arn" {
  description = "ARN of the executor function."
  value       = aws_lambda_function.executor.arn
}

output "bucket_name" {
  description = "Name of the shuffle bucket."
  value       = aws_s3_bucket.shuffle.id
}

output "store_uri" {
  description = "The S3 store URI (spark.sparkless.store)."
  value       = local.store_uri
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.executor.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.executor.name
}

output "ecr_repository_url" {
  description = "Where to push the image built from infra/lambda/Dockerfile (null when create_ecr_repository is false)."
  value       = try(aws_ecr_repository.executor[0].repository_url, null)
}

output "redis_primary_endpoint" {
  description = "Primary endpoint address of the ElastiCache group (null unless enable_redis)."
  value       = try(aws_elasticache_replication_group.redis[0].primary_endpoint_address, null)
}
