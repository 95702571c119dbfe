output "spark_conf" {
  description = "The spark.sparkless.* settings a client needs."
  value       = module.sparkless.spark_conf
}

output "spark_submit_args" {
  description = "The same settings as --conf arguments."
  value       = module.sparkless.spark_submit_args
}

output "ecr_repository_url" {
  description = "Where to push the executor image."
  value       = module.sparkless.ecr_repository_url
}
