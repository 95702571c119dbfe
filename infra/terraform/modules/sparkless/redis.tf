# Optional ElastiCache (Redis or Valkey) store: TLS in transit, encrypted at rest, AUTH
# token, private subnets. Clients use it as rediss://:TOKEN@HOST:6379/0.

resource "random_password" "redis_auth" {
  count = var.enable_redis && var.redis_auth_token == null ? 1 : 0

  length  = 32
  special = false # keeps the token URI-safe: it travels inside the store URI
}

locals {
  redis_auth_token = var.enable_redis ? coalesce(var.redis_auth_token, try(random_password.redis_auth[0].result, null)) : null
}

resource "aws_elasticache_subnet_group" "redis" {
  count = var.enable_redis ? 1 : 0

  name        = "${lower(var.name)}-redis"
  description = "private subnets of the sparkless store"
  subnet_ids  = var.subnet_ids
  tags        = local.tags
}

resource "aws_elasticache_replication_group" "redis" {
  count = var.enable_redis ? 1 : 0

  replication_group_id = "${lower(var.name)}-store"
  description          = "sparkless shuffle store for ${var.name}"
  engine               = var.redis_engine
  engine_version       = var.redis_engine_version
  node_type            = var.redis_node_type
  num_cache_clusters   = var.redis_num_cache_clusters
  port                 = 6379

  subnet_group_name  = aws_elasticache_subnet_group.redis[0].name
  security_group_ids = [aws_security_group.redis[0].id]

  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  at_rest_encryption_enabled = true
  auth_token                 = local.redis_auth_token

  automatic_failover_enabled = var.redis_num_cache_clusters > 1
  multi_az_enabled           = var.redis_num_cache_clusters > 1
  apply_immediately          = true

  tags = local.tags
}
