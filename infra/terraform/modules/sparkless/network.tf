# Only when enable_redis: the function's security group, ElastiCache's security group
# (reachable from the function's group and nothing else), and an optional S3 gateway
# endpoint so that the function in private subnets still reaches its bucket.

resource "aws_security_group" "lambda" {
  count = local.in_vpc ? 1 : 0

  name        = "${var.name}-lambda"
  description = "sparkless executor functions"
  vpc_id      = var.vpc_id
  tags        = local.tags

  lifecycle {
    precondition {
      condition     = var.vpc_id != null && length(var.subnet_ids) >= 1
      error_message = "enable_redis needs vpc_id and private subnet_ids."
    }
  }
}

resource "aws_security_group" "redis" {
  count = local.in_vpc ? 1 : 0

  name        = "${var.name}-redis"
  description = "sparkless ElastiCache store: reachable from the executor functions only"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_lambda" {
  count = local.in_vpc ? 1 : 0

  security_group_id            = aws_security_group.redis[0].id
  referenced_security_group_id = aws_security_group.lambda[0].id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  description                  = "Redis/Valkey TLS from the executor functions"
}

resource "aws_vpc_security_group_egress_rule" "lambda_to_redis" {
  count = local.in_vpc ? 1 : 0

  security_group_id            = aws_security_group.lambda[0].id
  referenced_security_group_id = aws_security_group.redis[0].id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  description                  = "to the ElastiCache store"
}

resource "aws_vpc_security_group_egress_rule" "lambda_https" {
  count = local.in_vpc ? 1 : 0

  security_group_id = aws_security_group.lambda[0].id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "HTTPS to S3 (gateway endpoint or NAT)"
}

resource "aws_vpc_endpoint" "s3" {
  count = local.in_vpc && length(var.s3_endpoint_route_table_ids) > 0 ? 1 : 0

  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.s3_endpoint_route_table_ids
  tags              = local.tags
}
