terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # logging_config on aws_lambda_function, the valkey engine on ElastiCache, and the
      # aws_vpc_security_group_*_rule resources are all present from 5.80 on.
      version = ">= 5.80"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.5"
    }
  }
}
