# ---------------------------------------------------------------------------------------
# Naming
# ---------------------------------------------------------------------------------------

variable "name" {
  type        = string
  description = "Name of the executor Lambda function; also the stem of the role, log group, ECR repository and security groups. Clients set spark.sparkless.lambda.function to it."
  default     = "sparkless-executor"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1-56 characters of letters, digits, '-' or '_' (Lambda allows 64; 8 are kept for suffixes)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource that takes tags."
  default     = {}
}

# ---------------------------------------------------------------------------------------
# Image and function
# ---------------------------------------------------------------------------------------

variable "create_ecr_repository" {
  type        = bool
  description = "Create an ECR repository for the executor image (infra/lambda/Dockerfile). Set false when image_uri points at an existing repository."
  default     = true
}

variable "image_uri" {
  type        = string
  description = "Full image URI (repository:tag or repository@sha256:digest). Null: the module's ECR repository with image_tag. The image must exist before the function can be created."
  default     = null

  validation {
    condition     = var.image_uri == null || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/.+[:@].+$", var.image_uri))
    error_message = "image_uri must be an ECR image URI (Lambda runs images from ECR only): ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG or @sha256:DIGEST."
  }
}

variable "image_tag" {
  type        = string
  description = "Tag of the image in the module's ECR repository, used when image_uri is null."
  default     = "latest"
}

variable "ecr_image_tag_mutability" {
  type        = string
  description = "MUTABLE lets a CI push 'latest' again; IMMUTABLE forces a new tag per build (safer: a function never changes under a running job)."
  default     = "MUTABLE"

  validation {
    condition     = contains(["MUTABLE", "IMMUTABLE"], var.ecr_image_tag_mutability)
    error_message = "ecr_image_tag_mutability must be MUTABLE or IMMUTABLE."
  }
}

variable "ecr_keep_images" {
  type        = number
  description = "How many images the ECR lifecycle policy keeps; older ones are expired."
  default     = 10

  validation {
    condition     = var.ecr_keep_images >= 1
    error_message = "ecr_keep_images must be at least 1."
  }
}

variable "architecture" {
  type        = string
  description = "Instruction set of the image: x86_64 or arm64 (arm64 is ~20% cheaper per GB-second; build the image for the same one)."
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_mb" {
  type        = number
  description = "Function memory in MB (CPU scales with it: 1769 MB = one vCPU, 10240 MB = six). Clients read it as spark.sparkless.lambda.memory."
  default     = 2048

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240 && floor(var.memory_mb) == var.memory_mb
    error_message = "memory_mb must be a whole number between 128 and 10240."
  }
}

variable "timeout_s" {
  type        = number
  description = "Function timeout in seconds; a task attempt longer than this is killed and retried by the driver. Clients read it as spark.sparkless.lambda.timeout."
  default     = 300

  validation {
    condition     = var.timeout_s >= 1 && var.timeout_s <= 900 && floor(var.timeout_s) == var.timeout_s
    error_message = "timeout_s must be a whole number between 1 and 900 (Lambda's maximum)."
  }
}

variable "ephemeral_storage_mb" {
  type        = number
  description = "Size of /tmp in MB; DuckDB spills there when a task's fragment does not fit in memory."
  default     = 2048

  validation {
    condition     = var.ephemeral_storage_mb >= 512 && var.ephemeral_storage_mb <= 10240
    error_message = "ephemeral_storage_mb must be between 512 and 10240."
  }
}

variable "reserved_concurrency" {
  type        = number
  description = "Reserved concurrent executions (-1: none, draw from the account pool). The driver uses it as its in-flight limit when spark.sparkless.maxConcurrency is unset."
  default     = -1

  validation {
    condition     = var.reserved_concurrency >= -1 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency must be -1 (unreserved) or a whole number >= 0."
  }
}

variable "provisioned_concurrency" {
  type        = number
  description = "Provisioned (always warm) executions for the warm pool; 0 turns it off. When > 0 the function is published and invoked through the alias 'live', and clients name 'FUNCTION:live'."
  default     = 0

  validation {
    condition     = var.provisioned_concurrency >= 0 && floor(var.provisioned_concurrency) == var.provisioned_concurrency
    error_message = "provisioned_concurrency must be a whole number >= 0."
  }
}

variable "environment" {
  type        = map(string)
  description = "Extra environment variables for the function (e.g. SPARKLESS_* tuning). Do not put secrets here: they are visible to anyone who can read the function configuration."
  default     = {}
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the function's CloudWatch log group, in days."
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

# ---------------------------------------------------------------------------------------
# Shuffle bucket
# ---------------------------------------------------------------------------------------

variable "bucket_name" {
  type        = string
  description = "Name of the shuffle bucket. Null: a unique name starting with '<name>-shuffle-'."
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, '.' or '-'."
  }
}

variable "shuffle_prefix" {
  type        = string
  description = "Key prefix of shuffle and broadcast blocks in the bucket (no leading or trailing '/'). The function may touch only keys under it."
  default     = "shuffle"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.shuffle_prefix))
    error_message = "shuffle_prefix must be a non-empty key prefix without leading, trailing or doubled '/'."
  }
}

variable "shuffle_expiration_days" {
  type        = number
  description = "Days after which objects under shuffle_prefix expire. Shuffle data is dead once its job ends; this catches what a crashed driver left behind."
  default     = 3

  validation {
    condition     = var.shuffle_expiration_days >= 1 && floor(var.shuffle_expiration_days) == var.shuffle_expiration_days
    error_message = "shuffle_expiration_days must be a whole number >= 1."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for bucket encryption (SSE-KMS). Null: SSE-S3 (AES256), no KMS cost or permissions needed."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Let 'terraform destroy' delete a bucket that still holds objects (shuffle data is disposable; off by default all the same)."
  default     = false
}

# ---------------------------------------------------------------------------------------
# Optional ElastiCache (Redis / Valkey) store
# ---------------------------------------------------------------------------------------

variable "enable_redis" {
  type        = bool
  description = "Create an ElastiCache replication group (TLS + AUTH) in private subnets for latency-bound shuffles. Puts the function in the VPC."
  default     = false
}

variable "vpc_id" {
  type        = string
  description = "VPC of the ElastiCache group and the function. Required when enable_redis is true."
  default     = null
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets (two or more AZs) for ElastiCache and the function's ENIs. Required when enable_redis is true. The function reaches S3 through a gateway endpoint (s3_endpoint_route_table_ids) or a NAT."
  default     = []
}

variable "s3_endpoint_route_table_ids" {
  type        = list(string)
  description = "Route tables of subnet_ids to attach an S3 gateway endpoint to, so that a function in the VPC reaches its bucket without a NAT. Empty: none is created (bring your own endpoint or NAT)."
  default     = []
}

variable "redis_engine" {
  type        = string
  description = "ElastiCache engine: valkey (cheaper, Redis-compatible) or redis."
  default     = "valkey"

  validation {
    condition     = contains(["valkey", "redis"], var.redis_engine)
    error_message = "redis_engine must be valkey or redis."
  }
}

variable "redis_engine_version" {
  type        = string
  description = "Engine version, e.g. 8.0 for valkey or 7.1 for redis."
  default     = "8.0"
}

variable "redis_node_type" {
  type        = string
  description = "Cache node type, e.g. cache.r7g.large."
  default     = "cache.r7g.large"

  validation {
    condition     = startswith(var.redis_node_type, "cache.")
    error_message = "redis_node_type must be an ElastiCache node type (cache.*)."
  }
}

variable "redis_num_cache_clusters" {
  type        = number
  description = "Nodes in the replication group (1 primary + replicas). 2 or more enables automatic failover and Multi-AZ."
  default     = 1

  validation {
    condition     = var.redis_num_cache_clusters >= 1 && var.redis_num_cache_clusters <= 6
    error_message = "redis_num_cache_clusters must be between 1 and 6."
  }
}

variable "redis_auth_token" {
  type        = string
  description = "AUTH token (16-128 printable characters, no '/', '\"' or '@'). Null: a random 32-character token is generated and appears only in sensitive outputs."
  default     = null
  sensitive   = true

  validation {
    condition     = var.redis_auth_token == null || can(regex("^[!#-.0-?A-~]{16,128}$", var.redis_auth_token))
    error_message = "redis_auth_token must be 16-128 printable ASCII characters without space, '/', '\"' or '@'."
  }
}

variable "enforce_tls" {
  type        = bool
  description = "Attach a bucket policy that denies requests without TLS. Turn off only against an emulator reached over plain http:// (LocalStack), where it would deny everything."
  default     = true
}
