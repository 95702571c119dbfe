resource "aws_cloudwatch_log_group" "executor" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  tags              = local.tags
}
